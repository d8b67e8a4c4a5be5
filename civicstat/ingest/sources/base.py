"""The contract every adapter follows: read a file, yield frames of canonical columns.

An adapter only maps and parses. It does not validate, assign districts, or write anything:
civicstat.ingest.pipeline does that for every source alike.

Each yielded pandas DataFrame has:
- any canonical columns (civicstat.core.schema.COLUMNS) the source has, already typed:
  timestamps as naive datetime64 in the city's local time (NaT where unparseable),
  lat/lon as float (NaN where missing), text as str/None. `status` is "open"/"closed" when the
  source value maps cleanly, else the raw value (ingest flags it `unknown_status`).
  Columns the source lacks may be absent; ingest fills them with NULL.
- `_line`  (int64): the 1-based line (or record number) in the file, for quarantine.
- `_raw`   (str): the raw record as text, for quarantine.
- optional `source_district` / `source_neighborhood` (str): the source's own area names,
  used when a row has no usable coordinates.
- optional `_reject` (str or None): a reason when the adapter already knows the record is
  unusable (for example "unreadable line").
- optional `is_information_only` (bool): calls that are not service requests (kept, but left
  out of performance figures).
- optional `_no_status` (bool): the source records neither a status nor a closed time for the
  row (a mapping with neither): ingest stores it with no status, so it counts for volume and
  never as open backlog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pandas as pd

from civicstat.core.errors import InputError  # noqa: F401  (adapters raise it from here)

LINE = "_line"
RAW = "_raw"
REJECT = "_reject"
SOURCE_DISTRICT = "source_district"
SOURCE_NEIGHBORHOOD = "source_neighborhood"
NO_STATUS = "_no_status"



class Adapter(Protocol):
    """A source format: `read(path, timezone)` yields canonical frames (see module docstring)."""

    name: str

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]: ...
