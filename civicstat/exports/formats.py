"""The file formats the product writes tables in, and the one CSV policy every CSV goes through.

FORMATS maps a format's name to its label, mime type, file extension and writer (frame -> bytes):
adding a format is one entry. Every CSV (open data, staff downloads, the data dictionary, the
quarantine export) is written by `to_csv` / `write_csv`:

- UTF-8 with a byte-order mark (so Excel reads the accents), ISO 8601 times, lists as "a; b".
- CSV injection (OWASP): residents' descriptions and raw quarantined lines are hostile input. A
  text cell that starts with = + - @ tab or carriage return (also after leading spaces), or that
  holds a |, gets a leading apostrophe, so a spreadsheet shows it as text, never runs it.
- A plain number stays a number: numeric columns are never touched, and text that is just a
  number ("-2", "3.5", "1e3") is left as it is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
ENCODING = "utf-8-sig"


def inert(value: object) -> object:
    """A text cell a spreadsheet could run as a formula, made literal; anything else unchanged."""
    if not isinstance(value, str) or PLAIN_NUMBER.fullmatch(value):
        return value
    if value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS) or "|" in value:
        return "'" + value
    return value


def _text_cell(value: object) -> object:
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and not isinstance(value, str)):
        value = "; ".join(str(v) for v in list(value))
    return inert(value)


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME with its text columns made inert; numeric, boolean and time columns as they are."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values)):
            safe[column] = values.map(_text_cell, na_action="ignore")
    return safe


def _csv_text(frame: pd.DataFrame, header: bool = True) -> str:
    return _safe(frame).to_csv(index=False, header=header, date_format=TIME_FORMAT)


def to_csv(frame: pd.DataFrame) -> bytes:
    """FRAME as a CSV file under the policy above."""
    return _csv_text(frame).encode(ENCODING)


def write_csv(path: Path, columns: list[str], frames: Iterable[pd.DataFrame]) -> int:
    """Stream FRAMES (each with COLUMNS) to one CSV file at PATH under the policy; rows written."""
    count = 0
    with open(path, "wb") as handle:
        handle.write(to_csv(pd.DataFrame(columns=columns)))  # byte-order mark and header
        for frame in frames:
            handle.write(_csv_text(frame[columns], header=False).encode("utf-8"))
            count += len(frame)
    return count


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@dataclass(frozen=True)
class Format:
    label: str
    mime: str
    extension: str
    write: Callable[[pd.DataFrame], bytes]

    def file_name(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


FORMATS: dict[str, Format] = {
    "csv": Format("CSV", "text/csv", "csv", to_csv),
    "parquet": Format("Parquet", "application/vnd.apache.parquet", "parquet", to_parquet),
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None
