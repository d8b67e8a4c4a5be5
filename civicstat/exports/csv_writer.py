"""CSV exports of internal tables that spreadsheets open as text, never as formulas or markup.

Residents' descriptions (and the raw text of quarantined records) are hostile input: a cell that
starts with = + - @ or a tab/carriage return would run as a formula in Excel or LibreOffice
(CSV injection), so such cells get a leading apostrophe (OWASP's advice). Lists become text.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would read as a formula, made literal."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text_column(values: pd.Series) -> pd.Series:
    def one(value: object) -> object:
        if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
            value = "; ".join(str(v) for v in list(value))
        return neutralise(value)

    return values.map(one, na_action="ignore")


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a byte-order mark, so Excel reads the accents) of `frame`."""
    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column])
                or pd.api.types.is_datetime64_any_dtype(safe[column])):
            safe[column] = _text_column(safe[column])
    return safe.to_csv(index=False).encode("utf-8-sig")
