"""Open data: the filtered public records as CSV or Parquet files, and their data dictionary.

Only what public.duckdb holds can be exported: the public columns of civicstat.core.schema, with
coordinates already coarsened (or removed for sensitive types) and no aggregate-only types.
"""

from __future__ import annotations

import io

import pandas as pd

from civicstat.core.privacy import COORDINATE_DECIMALS
from civicstat.core.schema import COLUMNS, PUBLIC_COLUMN_NAMES

MAX_ROWS = 500_000  # one download; narrower filters for more
FORMATS = {"csv": ("CSV", "text/csv"), "parquet": ("Parquet", "application/vnd.apache.parquet")}

_NOTES = {
    "lat": f"rounded to {COORDINATE_DECIMALS} decimals (about 100 m); empty for request types "
           "published without a location",
    "lon": f"rounded to {COORDINATE_DECIMALS} decimals (about 100 m); empty for request types "
           "published without a location",
    "closure": "'duplicate' marks a repeat of another request: the dashboard's figures leave "
               "duplicates out, the records keep them",
    "due_at": "used for the on-time rate",
}


def data_dictionary() -> pd.DataFrame:
    """One row per exported column: name, type, meaning, and how it was made public."""
    rows = [
        {"column": c.name, "type": c.sql_type, "meaning": c.meaning, "notes": _NOTES.get(c.name, "")}
        for c in COLUMNS
        if c.public
    ]
    return pd.DataFrame(rows, columns=["column", "type", "meaning", "notes"])


def data_dictionary_csv() -> bytes:
    return data_dictionary().to_csv(index=False).encode("utf-8")


def withheld_columns() -> list[str]:
    """Columns of the canonical schema that are never published."""
    return [c.name for c in COLUMNS if not c.public]


def to_file(records: pd.DataFrame, kind: str) -> bytes:
    """The records as a CSV (UTF-8, ISO times) or Parquet file."""
    records = records[[c for c in PUBLIC_COLUMN_NAMES if c in records]]
    if kind == "csv":
        return records.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode("utf-8")
    if kind == "parquet":
        buffer = io.BytesIO()
        records.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"unknown format {kind!r}")


def file_name(stem: str, kind: str) -> str:
    return f"{stem}.{kind}"
