"""The ingest pipeline shared by every source: validate, normalise, locate, upsert, publish.

For each frame an adapter yields (see sources.base):

1. reject what cannot be used at all (no id, no parseable created_at, adapter's `_reject`): the
   record goes to the `quarantine` table with its file, line, reason and raw text;
2. normalise: status open/closed (an unknown value is inferred from closed_at and flagged),
   closed_at and closure NULL while open, closure and channel to the canonical values (or a
   spelling sources.parsing knows; else "other"), due_at = created_at + the type's target
   when the source has none;
3. locate: district and neighbourhood by point-in-polygon (civicstat.core.geo), falling back to the
   source's own area names (a district only when it names an area of the district layer, else
   flagged `unknown_district`); doubtful coordinates are flagged, coordinates that are not
   degrees stop the run; a row whose source records no status at all (`_no_status`) is stored
   with none;
4. stage the rows in a temp table; at the end of each file keep the newest version of an id
   that appears more than once (flagged `duplicate_id_in_file`) and upsert set-based into
   `requests`: new ids are inserted, a newer version (updated_at, else the latest of created_at
   and closed_at) updates, an older one never does, an identical one changes nothing (the same
   version with different content, e.g. after new boundaries, replaces the stored row).

A run is one transaction: a crash leaves the store as it was. After the commit the snapshots
are published (civicstat.publish.build). A run that changes nothing (no insert, no update, no new
record in quarantine: an empty file, a replay) is rolled back instead: no run is recorded, the
store file is untouched and nothing is republished, so every visitor's warm cache survives.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from civicstat.core.city import City
from civicstat.core.errors import store_busy
from civicstat.core.geo import Areas, check_degrees
from civicstat.core.schema import CHANNELS, CLOSURES, COLUMN_NAMES, COLUMNS
from civicstat.ingest.prefetch import prefetched
from civicstat.ingest.sources.base import (
    LINE,
    NO_STATUS,
    RAW,
    REJECT,
    SOURCE_DISTRICT,
    SOURCE_NEIGHBORHOOD,
    Adapter,
    InputError,
)
from civicstat.ingest.sources.parsing import CHANNELS as SOURCE_CHANNELS
from civicstat.ingest.store import connect_store
from civicstat.publish import build as publishing

# Test hook: when set to a path, ingest writes that file just before COMMIT and sleeps, so a
# test can kill the process inside the transaction.
PAUSE_ENV = "CIVICSTAT_INGEST_PAUSE_BEFORE_COMMIT"

INFORMATION_ONLY = "information_only"  # flag for calls that are not service requests
REASON_NO_ID = "no_id"
REASON_NO_CREATED = "no_created_at"

Progress = Callable[[int, int], None]  # (lines done, lines in all files)


@dataclass
class IngestSummary:
    """What one ingest run did. read = inserted + updated + unchanged + rejected."""

    run_id: int
    files: list[str] = field(default_factory=list)
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)  # kept rows per flag
    with_district: int = 0  # kept rows that got a district (an area of the boundary layer)
    duplicate_ids: int = 0  # records whose id an earlier record of the same file already had
    created_min: datetime | None = None
    created_max: datetime | None = None
    seconds: float = 0.0
    changed: bool = False  # inserted, updated or quarantined something: recorded and published
    published: dict | None = None

    @property
    def kept(self) -> int:
        return self.read - self.rejected

    def counts(self) -> dict:
        """The `--json` object."""
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "duplicate_ids": self.duplicate_ids,
            "changed": self.changed,
            "published": (self.published or {}).get("version"),
        }


# --- SQL ------------------------------------------------------------------------------------

SQL_TYPES = {c.name: c.sql_type for c in COLUMNS}
# columns compared to decide whether an equal version is an identical replay
COMPARED = [c for c in COLUMN_NAMES if c != "source"] + ["flags"]
# a row's version: updated_at, else the latest of created_at and closed_at
VERSION = "coalesce(updated_at, greatest(created_at, closed_at))"

STAGE_DDL = f"""
create temp table _stage (
    {", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS)},
    flags VARCHAR[], _line BIGINT, _reason VARCHAR, _raw VARCHAR
)
"""

# SQL text below is built only from identifiers in civicstat.core.schema and this module; every value
# is bound. {select} is filled per frame from the columns the frame has (see _select_list).
STAGE_INSERT = """
insert into _stage
with f as (
    select {select} from _frame
),
v as (
    select f.*,
        case when _reject is not null then _reject
             when request_id is null then $no_id
             when created_at is null then $no_created_at end as _reason,
        case when _no_status then null  -- the source records no state: volume, not backlog
             when _status in ('open', 'closed') then _status
             when _closed_at is not null then 'closed' else 'open' end as status
    from f
)
select
    v.request_id, v.created_at, v.updated_at,
    case when v.status = 'closed' then v._closed_at end as closed_at,
    coalesce(v.due_at, v.created_at + to_seconds(coalesce(t.hours, $default_hours) * 3600))
        as due_at,
    v.status,
    case when v.status = 'closed' then
        case when v._closure is null then 'resolved'
             when v._closure in (select unnest($closures)) then v._closure
             else 'other' end
    end as closure,
    v.department, v.request_type, v.category,
    case when v._channel is null then null else coalesce(c.channel, 'other') end as channel,
    coalesce(v._pip_district, v._source_district) as district,  -- an area of the layer (_locate)
    coalesce(v._pip_neighborhood, v._source_neighborhood) as neighborhood,
    v.lat, v.lon, v.address, v.description, v.resolution,
    coalesce(v.source, $source) as source,
    list_filter([
        case when v.status = 'closed' and v._closed_at < v.created_at
             then 'closed_before_created' end,
        case when v._no_coordinates then 'no_coordinates' end,
        case when v._placeholder then 'placeholder_coordinates' end,
        case when v._outside then 'outside_city' end,
        case when v._pip_district is null and v._unknown_district then 'unknown_district' end,
        case when v._status is not null and v._status not in ('open', 'closed')
             then 'unknown_status' end,
        case when v._information_only then $information_only end,
        case when greatest(v.created_at, v.updated_at, v._closed_at) > $latest
             then 'date_in_future' end,
        case when least(v.created_at, v.updated_at, v._closed_at) < $earliest
             then 'date_before_earliest' end
    ], lambda x: x is not null) as flags,
    v._line, v._reason,
    case when v._reason is not null then v._raw end as _raw
from v
left join _targets t on t.request_type = v.request_type
left join _channels c on c.raw = v._channel
"""

# The file's kept rows, one per id: when an id repeats, its newest version (then its last line)
# wins and is flagged. {batch} in CLASSIFY is one of these two.
KEPT = f"""
select *, {VERSION} as _version from _stage where _reason is null
"""  # noqa: S608 (schema identifiers only)
DEDUPED = f"""
select * exclude (_rank, _copies) replace (
    case when _copies > 1 then list_append(flags, 'duplicate_id_in_file') else flags end as flags
)
from (
    select *, {VERSION} as _version,
        row_number() over (partition by request_id order by {VERSION} desc,
                           _line desc) as _rank,
        count(*) over (partition by request_id) as _copies
    from _stage where _reason is null
)
where _rank = 1
"""  # noqa: S608 (schema identifiers only)

CLASSIFY = f"""
create or replace temp table _actions as
with b as materialized ({{batch}})
select b.*,
    case when r.request_id is null then 'insert'
         when b._version > r._version then 'update'
         when b._version = r._version and ({" or ".join(
             f"b.{c} is distinct from r.{c}" for c in COMPARED)}) then 'update'
         else 'unchanged' end as _action
from b
left join (
    select request_id, {VERSION} as _version, {", ".join(COMPARED[1:])}
    from requests
    where request_id in (select request_id from b)
) r using (request_id)
"""  # noqa: S608 (schema identifiers only)

# the same, when the store is still empty (a first load): everything is new
CLASSIFY_ALL_NEW = """
create or replace temp table _actions as select *, 'insert' as _action from ({batch})
"""

STORED = COLUMN_NAMES + ("flags",)
APPLY_UPDATE = f"""
update requests set {", ".join(f"{c} = a.{c}" for c in STORED[1:])}, run_id = $run_id
from _actions a
where a._action = 'update' and requests.request_id = a.request_id
"""  # noqa: S608 (schema identifiers only)
APPLY_INSERT = f"""
insert into requests ({", ".join(STORED)}, run_id)
select {", ".join(STORED)}, $run_id from _actions where _action = 'insert'
"""  # noqa: S608 (schema identifiers only)
# A rejected record already in quarantine (same file, line, reason, raw) is not added again:
# replaying a file changes nothing there either.
QUARANTINE = """
insert into quarantine (run_id, file, line, reason, raw)
select $run_id, $file, s._line, s._reason, s._raw from _stage s
where s._reason is not null and not exists (
    select 1 from quarantine q
    where q.file = $file and q.line is not distinct from s._line and q.reason = s._reason
      and q.raw is not distinct from s._raw
)
order by s._line
"""


def _select_list(frame: pd.DataFrame) -> str:
    """The stage's input columns from whatever the frame has (missing ones are NULL)."""
    has = set(frame.columns)

    def col(name: str, sql_type: str, *, text: bool = False) -> str:
        if name not in has:
            return f"cast(null as {sql_type})"
        quoted = f'"{name}"'
        if text:
            return f"nullif(trim(cast({quoted} as varchar)), '')"
        return f"try_cast({quoted} as {sql_type})"

    plain = {"request_id", "created_at", "updated_at", "due_at", "department", "request_type",
             "category", "lat", "lon", "address", "description", "resolution", "source"}
    items = [f"{col(c, SQL_TYPES[c], text=SQL_TYPES[c] == 'VARCHAR')} as {c}"
             for c in COLUMN_NAMES if c in plain]
    items += [
        f"{col('closed_at', 'TIMESTAMP')} as _closed_at",
        f"lower({col('status', 'VARCHAR', text=True)}) as _status",
        f"lower({col('closure', 'VARCHAR', text=True)}) as _closure",
        f"lower({col('channel', 'VARCHAR', text=True)}) as _channel",
        f"{col(LINE, 'BIGINT')} as _line",
        f"{col(REJECT, 'VARCHAR', text=True)} as _reject",
        f"{col(RAW, 'VARCHAR')} as _raw",
        "_pip_district, _pip_neighborhood",
        # the source's own district, already matched to the boundary layer by _locate
        "_source_district, _unknown_district",
        "_source_neighborhood",
        "_no_coordinates, _placeholder, _outside",
        f"coalesce({col('is_information_only', 'BOOLEAN')}, false) as _information_only",
        f"coalesce({col(NO_STATUS, 'BOOLEAN')}, false) as _no_status",
    ]
    return ",\n        ".join(items)


def _source_values(frame: pd.DataFrame, *names: str) -> np.ndarray:
    """Per row, the first non-empty text among the frame's columns NAMES (None where none)."""
    values = pd.Series(pd.NA, index=frame.index, dtype="string")
    for name in names:
        if name in frame:
            text = frame[name].astype("string").str.strip()
            values = values.fillna(text.mask(text == ""))
    result = values.to_numpy(dtype=object, copy=True)
    result[pd.isna(result)] = None
    return result


def _locate(frame: pd.DataFrame, areas: Areas) -> pd.DataFrame:
    """The frame with its area and coordinate-flag helper columns added.

    Coordinates that are not degrees stop the run (InputError); single values out of ±90 / ±180
    are flagged as placeholders and not stored. The source's own district counts only when it
    names an area of the district layer (Areas.source_districts); else `_unknown_district`.
    """
    n = len(frame)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(np.float64) if "lat" in frame \
        else np.full(n, np.nan)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(np.float64) if "lon" in frame \
        else np.full(n, np.nan)
    check_degrees(lat, lon)
    located = areas.locate(lat, lon)
    frame = frame.reset_index(drop=True)
    with np.errstate(invalid="ignore"):
        out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if out_of_range.any():  # flagged placeholder_coordinates above; never stored as lat/lon
        frame = frame.assign(lat=np.where(out_of_range, np.nan, lat),
                             lon=np.where(out_of_range, np.nan, lon))
    district, unknown = areas.source_districts(
        _source_values(frame, SOURCE_DISTRICT, "district"))
    neighborhood = _source_values(frame, SOURCE_NEIGHBORHOOD, "neighborhood")
    return frame.assign(
        _pip_district=pd.Series(located.district, dtype="str"),
        _pip_neighborhood=pd.Series(located.neighborhood, dtype="str"),
        _no_coordinates=located.no_coordinates,
        _placeholder=located.placeholder,
        _outside=located.outside_city,
        _source_district=pd.Series(district, dtype="str"),
        _unknown_district=unknown,
        _source_neighborhood=pd.Series(neighborhood, dtype="str"),
    )


# --- the run --------------------------------------------------------------------------------


def _count_lines(path: Path) -> int:
    """Line breaks in a file (bare CR counts when there is no LF): the progress bar's total."""
    lf = cr = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
    return max(lf or cr, 1)


class _Run:
    """One ingest run inside one transaction on the store."""

    def __init__(self, con: duckdb.DuckDBPyConnection, city: City, areas: Areas,
                 adapter: Adapter, summary: IngestSummary):
        self.con = con
        self.city = city
        self.areas = areas
        self.adapter = adapter
        self.run_id = summary.run_id
        self.summary = summary
        # later than this (the city's local time now, plus a day) is flagged date_in_future
        self.latest = datetime.now(ZoneInfo(city.timezone)).replace(tzinfo=None) + timedelta(days=1)

    def setup(self) -> None:
        con = self.con
        con.execute("create temp table _targets (request_type VARCHAR, hours DOUBLE)")
        if self.city.target_hours:
            con.executemany("insert into _targets values (?, ?)",
                            list(self.city.target_hours.items()))
        con.execute("create temp table _channels (raw VARCHAR, channel VARCHAR)")
        # the canonical values, and the spellings sources use (sources.parsing.CHANNELS)
        pairs = {**SOURCE_CHANNELS, **{c: c for c in CHANNELS}}
        con.executemany("insert into _channels values (?, ?)", list(pairs.items()))

    def ingest_file(self, path: Path, on_frame: Callable[[int], None]) -> None:
        con = self.con
        con.execute(STAGE_DDL)
        default_source = f"{self.adapter.name}:{path.name}"
        records = 0
        for frame in prefetched(self.adapter.read(path, self.city.timezone)):
            if frame.empty:
                continue
            if LINE not in frame:  # the record number, when the adapter gives no line
                frame = frame.assign(**{LINE: np.arange(records + 1, records + len(frame) + 1)})
            records += len(frame)
            prepared = _locate(frame, self.areas)
            con.register("_frame", prepared)
            try:
                con.execute(STAGE_INSERT.format(select=_select_list(prepared)), {
                    "default_hours": self.city.default_target_hours,
                    "closures": list(CLOSURES),
                    "source": default_source,
                    "no_id": REASON_NO_ID,
                    "no_created_at": REASON_NO_CREATED,
                    "information_only": INFORMATION_ONLY,
                    "latest": self.latest,
                    "earliest": datetime.combine(self.city.earliest_date, datetime.min.time()),
                })
            finally:
                con.unregister("_frame")
            self.summary.read += len(frame)
            on_frame(int(prepared[LINE].max()))
        self._merge(path)
        con.execute("drop table _stage")

    def _merge(self, path: Path) -> None:
        con, s = self.con, self.summary
        for reason, count in con.execute(
                "select _reason, count(*) from _stage where _reason is not null group by all"
        ).fetchall():
            s.rejected_by_reason[reason] = s.rejected_by_reason.get(reason, 0) + count
        con.execute(QUARANTINE, {"run_id": self.run_id, "file": str(path)})
        kept, distinct = con.execute(
            "select count(*), count(distinct request_id) from _stage where _reason is null"
        ).fetchone()
        store_empty = con.execute("select not exists (select 1 from requests)").fetchone()[0]
        classify = CLASSIFY_ALL_NEW if store_empty else CLASSIFY
        con.execute(classify.format(batch=DEDUPED if distinct < kept else KEPT))
        actions = dict(con.execute(
            "select _action, count(*) from _actions group by all").fetchall())
        s.inserted += actions.get("insert", 0)
        s.updated += actions.get("update", 0)
        s.unchanged += actions.get("unchanged", 0) + (kept - distinct)  # duplicates that lost
        s.duplicate_ids += kept - distinct
        con.execute(APPLY_UPDATE, {"run_id": self.run_id})
        con.execute(APPLY_INSERT, {"run_id": self.run_id})
        self._describe()
        con.execute("drop table _actions")

    def _describe(self) -> None:
        """Add this file's flags, district share and date range to the summary."""
        s = self.summary
        for flag, count in self.con.execute(
                "select flag, count(*) from (select unnest(flags) as flag from _actions) "
                "group by all").fetchall():
            s.flagged[flag] = s.flagged.get(flag, 0) + count
        with_district, lo, hi = self.con.execute(
            "select count(district), min(created_at), max(created_at) from _actions").fetchone()
        s.with_district += with_district
        if lo is not None:
            s.created_min = min(lo, s.created_min or lo)
            s.created_max = max(hi, s.created_max or hi)

    def finish(self, started_at: datetime) -> None:
        """Total the summary; record the run only when it changed the store."""
        con, s = self.con, self.summary
        s.rejected_by_reason = dict(sorted(s.rejected_by_reason.items()))
        s.rejected = sum(s.rejected_by_reason.values())
        assert s.read == s.inserted + s.updated + s.unchanged + s.rejected, s
        quarantined = con.execute("select count(*) from quarantine where run_id = ?",
                                  [self.run_id]).fetchone()[0]
        s.changed = bool(s.inserted or s.updated or quarantined)
        if not s.changed:
            return
        con.execute(
            "insert into ingest_runs (run_id, started_at, finished_at, source, files, count_read, "
            "count_inserted, count_updated, count_unchanged, count_rejected, rejected_by_reason) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.run_id, started_at, datetime.now(), self.adapter.name, s.files, s.read,
             s.inserted, s.updated, s.unchanged, s.rejected, json.dumps(s.rejected_by_reason)],
        )


def _open_store(city: City) -> duckdb.DuckDBPyConnection:
    try:
        return connect_store(city.store_path)
    except duckdb.IOException as exc:
        raise store_busy(city.store_path, exc) from exc


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


def ingest_files(
    city: City,
    files: Iterable[Path | str],
    adapter: Adapter,
    *,
    progress: Progress | None = None,
    publish_after: bool = True,
) -> IngestSummary:
    """Load FILES with ADAPTER into the city's store in one transaction, then publish (only when
    the run changed something: see the module docstring).

    `progress(lines_done, lines_total)`, when given, is called after each frame and with
    lines_done = lines_total once the run is committed. InputError when a file is missing or
    the adapter cannot use it; the store is then unchanged.
    """
    paths = [Path(f).resolve() for f in files]
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: file not found")
    started = time.perf_counter()
    started_at = datetime.now()
    areas = Areas.from_city(city)  # unusable boundaries fail before the store is touched
    lines = [_count_lines(p) for p in paths] if progress else [0] * len(paths)
    total = sum(lines)

    con = _open_store(city)
    try:
        con.execute("begin transaction")
        run_id = con.execute("select coalesce(max(run_id), 0) + 1 from ingest_runs").fetchone()[0]
        summary = IngestSummary(run_id=run_id, files=[str(p) for p in paths])
        run = _Run(con, city, areas, adapter, summary)
        run.setup()
        for index, path in enumerate(paths):
            base = sum(lines[:index])

            def report(line: int, base: int = base) -> None:
                if progress:  # 100% only once committed
                    progress(min(base + line, total - 1), total)

            run.ingest_file(path, report)
        run.finish(started_at)
        if summary.changed:
            _pause_for_tests()
            con.execute("commit")
        else:
            con.execute("rollback")  # nothing to keep: not even the run's number
    except BaseException:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # no transaction open (it failed before BEGIN)
        raise
    finally:
        con.close()
    if progress:
        progress(total, total)
    summary.seconds = time.perf_counter() - started
    if publish_after and (summary.changed or publishing.snapshots_behind(city)):
        summary.published = publishing.publish(city)  # the store is closed now: publish reads it
    return summary

