"""Edit Streamlit's secrets.toml in place: set or remove one table, keep every other line as it was.

The standard library reads TOML but does not write it, and a secrets file holds hand-written
sections ([auth], comments) that must survive. So a table is replaced line-wise, then the whole
file is parsed again and compared with what was meant; anything else is refused, not written.
Writes are atomic (temporary file, then rename) and the file stays readable by its owner only.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tomllib
from pathlib import Path

DEFAULT_SECRETS_FILE = Path(".streamlit") / "secrets.toml"
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class SecretsFileError(ValueError):
    """The secrets file cannot be read, or cannot be edited safely."""


def read_secrets(path: Path) -> dict:
    """The parsed file, {} when it does not exist."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SecretsFileError(f"{path}: not valid TOML ({error})") from error


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a `[table]` header line, or None when the line is not one."""
    text = line.strip()
    if not text.startswith("[") or text.startswith("[["):
        return None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        path.append(key)
    return tuple(path) if parsed == {} else None


def _is_any_header(line: str) -> bool:
    text = line.strip()
    if text.startswith("[["):
        try:
            tomllib.loads(text)
            return True
        except tomllib.TOMLDecodeError:
            return False
    return _header_path(line) is not None


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _table_text(path: tuple[str, ...], values: dict[str, str]) -> list[str]:
    header = ".".join(_key(key) for key in path)
    return [f"[{header}]\n", *(f"{key} = {json.dumps(value)}\n" for key, value in values.items())]


def _without_table(lines: list[str], path: tuple[str, ...]) -> tuple[list[str], int | None]:
    """The lines with table `path` cut out, and where it stood (None if absent)."""
    start = next((i for i, line in enumerate(lines) if _header_path(line) == path), None)
    if start is None:
        return lines, None
    end = next((i for i in range(start + 1, len(lines)) if _is_any_header(lines[i])), len(lines))
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1  # blank lines and comments just before the next table belong to it
    return lines[:start] + lines[end:], start


def _expected(before: dict, path: tuple[str, ...], values: dict[str, str] | None) -> dict:
    after = copy.deepcopy(before)
    node = after
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if values is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = dict(values)
    return after


def _pruned(tree: dict) -> dict:
    """`tree` without the tables that hold nothing at all."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        out[key] = value
    return out


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = (path.stat().st_mode & 0o777) if path.exists() else 0o600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode & 0o700 or 0o600)  # never group- or world-readable
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def set_table(path: Path, table: tuple[str, ...], values: dict[str, str] | None) -> bool:
    """Set table `table` (a key path) to `values` (strings), or remove it when values is None.

    Returns whether the table existed before. Raises SecretsFileError, leaving the file as it
    was, when the result would not parse to exactly the intended content.
    """
    before = read_secrets(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines, position = _without_table(lines, table)
    if values is None and position is None:
        return False  # nothing to remove
    if values is not None:
        block = _table_text(table, values)
        if position is None:
            if lines and lines[-1].strip():
                lines.append("\n")
            lines += block
        else:
            if position < len(lines) and lines[position].strip():
                block.append("\n")
            lines[position:position] = block
    elif 0 < position < len(lines) and not lines[position].strip() and not lines[position - 1].strip():
        del lines[position]  # no double blank line where the table was
    new_text = "".join(lines)
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as error:
        raise SecretsFileError(f"{path}: cannot edit safely ({error}); edit it by hand") from error
    expected = _expected(before, table, values)
    if parsed not in (expected, _pruned(expected)):  # parents left empty may vanish with it
        raise SecretsFileError(f"{path}: cannot edit [{'.'.join(table)}] safely; edit it by hand")
    _write_atomically(path, new_text)
    return position is not None
