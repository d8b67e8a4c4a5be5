"""Edit Streamlit's secrets.toml in place: set or remove one table, keep every other line as it was.

tomlkit edits the file as a document, so hand-written sections ([auth]) and comments survive. The
comments and blank lines just before a table header belong to that table's header (tomlkit files
them under the table above, which an edit there would take with it). The result is parsed again
and compared with what was meant; anything else is refused, not written. Writes are atomic
(temporary file, then rename) and the file stays readable by its owner only.
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, Null, Table, Whitespace

DEFAULT_SECRETS_FILE = Path(".streamlit") / "secrets.toml"


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


def _headers(body: list) -> list[Table]:
    """The tables under BODY (a container's (key, item) list) that write a [header], in file order."""
    found: list[Table] = []
    for _, item in body:
        tables = item.body if isinstance(item, AoT) else [item] if isinstance(item, Table) else []
        for table in tables:
            if not table.is_super_table():
                found.append(table)
            found += _headers(table.value.body)
    return found


def _own_tail(table: Table) -> tuple[int, int]:
    """The span of TABLE's body holding the comments and blank lines after its own keys."""
    body = table.value.body
    end = next((i for i, (_, item) in enumerate(body) if isinstance(item, (Table, AoT))), len(body))
    start = end
    while start > 0 and body[start - 1][0] is None and isinstance(body[start - 1][1],
                                                                  (Comment, Whitespace, Null)):
        start -= 1
    return start, end


def _attach_comments_to_next_header(document) -> None:
    """Move the comments and blank lines before each [header] into that header's own text."""
    headers = _headers(document.body)
    for table, following in zip(headers, headers[1:], strict=False):
        start, end = _own_tail(table)
        if start < end:
            body = table.value.body
            following.trivia.indent = "".join(item.as_string() for _, item in body[start:end]) + (
                following.trivia.indent)
            body[start:end] = [(None, Null())] * (end - start)  # as tomlkit removes: indices kept


def _remove(document, parent, name: str, removed: Table) -> None:
    """Remove table NAME of PARENT; the comments above its header stay where it was (on the next
    header, or at the end of the file), and no double blank line is left where it stood."""
    headers = _headers(document.body)
    gone = {id(removed), *(id(t) for t in _headers(removed.value.body))}
    index = next((i for i, t in enumerate(headers) if t is removed), len(headers))
    later = [t for t in headers[index + 1:] if id(t) not in gone]
    earlier = [t for t in headers[:index] if id(t) not in gone]
    comments = removed.trivia.indent if "#" in removed.trivia.indent else ""
    start, end = _own_tail(removed)
    tail = "".join(item.as_string() for _, item in removed.value.body[start:end])
    del parent[name]
    if later:
        following = later[0]
        following.trivia.indent = comments + following.trivia.indent
        marker = "\0civicstat-next-header\0"
        following.trivia.indent = marker + following.trivia.indent
        before = tomlkit.dumps(document).split(marker)[0]
        following.trivia.indent = following.trivia.indent[len(marker):]
        if before == "" or before.endswith("\n\n"):
            following.trivia.indent = following.trivia.indent.lstrip("\n")
        return
    target = earlier[-1] if earlier else document
    for line in (comments + tail).splitlines():  # the last table: its comments go to the end
        if line.strip().startswith("#"):
            target.add(tomlkit.comment(line.strip()[1:].strip()))


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


def _refuse(path: Path, table: tuple[str, ...], why: str) -> SecretsFileError:
    return SecretsFileError(f"{path}: cannot edit [{'.'.join(table)}] safely ({why}); "
                            "edit it by hand")


def set_table(path: Path, table: tuple[str, ...], values: dict[str, str] | None) -> bool:
    """Set table `table` (a key path) to `values` (strings), or remove it when values is None.

    Returns whether the table existed before. Raises SecretsFileError, leaving the file as it
    was, when the result would not parse to exactly the intended content.
    """
    before = read_secrets(path)
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8") if path.exists() else "")
    except TOMLKitError as error:
        raise SecretsFileError(f"{path}: not valid TOML ({error})") from error
    _attach_comments_to_next_header(document)

    parent = document
    for depth, key in enumerate(table[:-1]):
        node = parent.get(key)
        if node is None:
            if values is None:
                return False  # nothing to remove
            node = tomlkit.table(is_super_table=True)
            parent[key] = node
        elif not isinstance(node, (Table, OutOfOrderTableProxy)):
            raise _refuse(path, table, f"{'.'.join(table[:depth + 1])} is not a [table]")
        parent = node
    name = table[-1]
    old = parent.get(name)
    if old is not None and not isinstance(old, Table):
        raise _refuse(path, table, "it is not a [table]")
    if values is None:
        if old is None:
            return False
        _remove(document, parent, name, old)
    else:
        new = tomlkit.table()
        new.update(values)
        if old is not None:
            new.trivia.indent = old.trivia.indent
        parent[name] = new

    new_text = tomlkit.dumps(document)
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as error:
        raise SecretsFileError(f"{path}: cannot edit safely ({error}); edit it by hand") from error
    expected = _expected(before, table, values)
    if parsed not in (expected, _pruned(expected)):  # parents left empty may vanish with it
        raise _refuse(path, table, "the result would differ")
    _write_atomically(path, new_text)
    return old is not None
