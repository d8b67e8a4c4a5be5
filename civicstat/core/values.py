"""Missing values, one definition for every layer: None, NaN, NaT and pd.NA."""

from __future__ import annotations

import pandas as pd


def missing(value: object) -> bool:
    """True for None, NaN, NaT or pd.NA (False for anything pandas cannot judge, e.g. a list)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
