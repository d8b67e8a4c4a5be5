"""Open data: the filtered public records in any export format, and their data dictionary.

Only what public.duckdb holds can be exported: the public columns of civicstat.core.schema, with
coordinates already coarsened (or removed for sensitive types) and no aggregate-only types.
"""

from __future__ import annotations

import pandas as pd

from civicstat.core.privacy import COORDINATE_DECIMALS
from civicstat.core.schema import COLUMNS, PUBLIC_COLUMN_NAMES
from civicstat.exports.formats import get_format, to_csv

MAX_ROWS = 500_000  # one download; narrower filters for more

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
    return to_csv(data_dictionary())


def withheld_columns() -> list[str]:
    """Columns of the canonical schema that are never published."""
    return [c.name for c in COLUMNS if not c.public]


def to_file(records: pd.DataFrame, kind: str) -> bytes:
    """The public columns of RECORDS as a file of format KIND (civicstat.exports.formats)."""
    return get_format(kind).write(records[[c for c in PUBLIC_COLUMN_NAMES if c in records]])
