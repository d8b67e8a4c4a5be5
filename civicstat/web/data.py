"""The app's data layer: cached read-only connections and cached query results.

Connections are cached with st.cache_resource per snapshot file identity (a publish swaps in a
new file, so a new identity, so a new connection). Results are cached with st.cache_data by
query name, parameters and snapshot version. Public and internal functions are separate, so no
cache entry can cross audiences, and public functions can only reach public.duckdb. Internal
functions refuse a visitor without a staff role (StaffOnly), whatever page called them: the router
already keeps staff pages from the public, and this is the second lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from civicstat.accounts.users import GRANTED_ROLES
from civicstat.core.brief import DistrictBrief, build_brief
from civicstat.core.city import DistrictLabels, city_dir_from_env
from civicstat.core.filters import Filters
from civicstat.exports import opendata
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import SnapshotMissing, connect_snapshot, file_identity, read_info
from civicstat.web import auth

# Results kept per audience: bounds the cache's memory (a 10-minute soak grew RSS by about
# 3 MB a minute while this filled at 2,000; most results are a few KB).
RESULT_CACHE_ENTRIES = 500


def snapshot_path(audience: str) -> Path:
    """build/<audience>.duckdb of the city the app serves ($CIVICSTAT_CITY)."""
    return city_dir_from_env() / "build" / f"{audience}.duckdb"


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(real_path: str, inode: int, mtime_ns: int) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """One connection per snapshot file version (a publish links a new file in its place)."""
    con = connect_snapshot(real_path)
    return con, read_info(con)


def _handle(audience: str) -> tuple[duckdb.DuckDBPyConnection, dict]:
    path = snapshot_path(audience)
    if not path.exists():
        return _open(str(path), 0, 0)  # raises SnapshotMissing, which is not cached
    return _open(*file_identity(path))


class StaffOnly(PermissionError):
    """Internal data was asked for in a session without a staff role."""


def _require_staff() -> None:
    role = auth.identity().role
    if role not in GRANTED_ROLES:
        raise StaffOnly(f"internal data needs a staff role (this session: {role})")


def public_info() -> dict:
    """The public snapshot's info: version, as-of, city name, time zone, k, policy."""
    return _handle("public")[1]


def internal_info() -> dict:
    """The internal snapshot's info (staff only)."""
    _require_staff()
    return _handle("internal")[1]


@st.cache_data(max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def _public_result(name: str, params: tuple, version: str) -> pd.DataFrame:
    con, info = _handle("public")
    return get_query("public", name).run(con, dict(params))


@st.cache_data(max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def _internal_result(name: str, params: tuple, version: str) -> pd.DataFrame:
    con, info = _handle("internal")
    return get_query("internal", name).run(con, dict(params))


def public_query(name: str, **params: object) -> pd.DataFrame:
    """Run queries/public/<name>.sql on public.duckdb (cached by parameters and version)."""
    return _public_result(name, tuple(sorted(params.items())), public_info()["version"])


def internal_query(name: str, **params: object) -> pd.DataFrame:
    """Run queries/internal/<name>.sql on internal.duckdb (cached by parameters and version);
    staff only."""
    _require_staff()
    return _internal_result(name, tuple(sorted(params.items())), internal_info()["version"])


def district_brief(filters: Filters, district: str) -> DistrictBrief:
    """The district briefing's figures from public.duckdb (each query cached as above)."""
    return build_brief(filters, district, public_info(), _labelled_query)


def district_labels() -> DistrictLabels:
    """How districts are shown to people (city.toml's [districts], carried in the snapshot's
    info): DistrictLabels.label is the one function that gives a district's label."""
    return DistrictLabels.from_info(public_info())


def map_style() -> str | None:
    """The base-map style URL the city configured (city.toml's [map] style), else None: no map
    then asks any host but the app's own for anything."""
    return public_info().get("map_style") or None


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a district_label column beside its district column (maps, tables)."""
    label = district_labels().label
    return frame.assign(district_label=[label(d) for d in frame["district"]])


def _labelled_query(name: str, **params: object) -> pd.DataFrame:
    frame = public_query(name, **params)
    return with_labels(frame) if name == "district_summary" else frame


@dataclass(frozen=True)
class PublicStart:
    """What every public page starts from: the snapshot's info and the filter choices
    (filter_options.sql), or why there is nothing to show (`missing`)."""

    info: dict | None
    options: pd.DataFrame | None
    missing: str | None = None


def public_start() -> PublicStart:
    """The public snapshot's info and filter choices; `missing` says why not when nothing is
    published."""
    try:
        return PublicStart(public_info(), public_query("filter_options"))
    except SnapshotMissing as absent:
        return PublicStart(None, None, str(absent))


def district_summary(filters: Filters) -> pd.DataFrame:
    """district_summary.sql for every district (a district filter only highlights its own),
    with each district's label (district_label)."""
    return _labelled_query(
        "district_summary", **filters.params("start", "end", without=("district",))
    )


# Open-data files kept, whole, for repeated downloads: a 500,000-row file costs seconds of CPU and
# ~100 MB to make, so a few are kept (bounded memory) and the rows are never put in the result
# cache above (500 entries of such frames would be tens of GB).
DOWNLOAD_CACHE_ENTRIES = 4


@st.cache_data(max_entries=DOWNLOAD_CACHE_ENTRIES, show_spinner=False)
def _open_data_file(kind: str, params: tuple, version: str) -> bytes:
    con, _ = _handle("public")
    records = get_query("public", "open_data_records").run(con, dict(params))
    return opendata.to_file(records, kind)


def open_data_file(kind: str, filters: Filters) -> bytes:
    """The filtered public records as a file of format `kind` (at most opendata.MAX_ROWS rows),
    cached per filters, format and snapshot version."""
    params = {"max_rows": opendata.MAX_ROWS, **filters.params("start", "end")}
    return _open_data_file(kind, tuple(sorted(params.items())), public_info()["version"])

