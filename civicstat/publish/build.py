"""Build internal.duckdb and public.duckdb from the store, then swap them in atomically.

Each snapshot is written to a temporary file, checkpointed, closed and renamed to a file named
for its version (`public-<version>.duckdb`); then the link `public.duckdb` is pointed at it by
renaming a new symlink over the old one (os.replace is atomic on one filesystem). A reader never
sees a half-written file, and a crash leaves the previous snapshots as they were.

Why a link to a new file name rather than renaming over the old file: DuckDB keeps one database
per file path in a process, so a running app would go on reading the old data under the old
path. A new name per version lets every app process open the new data beside the old.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from civicstat.core.city import City
from civicstat.core.definitions import DERIVED_COLUMN_NAMES, derived_columns, dimension_macro
from civicstat.core.privacy import public_select_list
from civicstat.core.schema import COLUMN_NAMES
from civicstat.publish.staff_tables import STAFF_TABLES
from civicstat.serve.snapshots import SNAPSHOT_FORMAT

# Requests that count in performance figures (not duplicates, not information-only calls),
# matching the dimension filters (NULL = all). Every performance query starts from here, so
# what is left out is decided in one place.
SCOPED_REQUESTS_MACRO = """
create or replace macro {db}.scoped_requests(
    p_department, p_district, p_category, p_request_type, p_channel
) as table
select * from requests
where closure is distinct from 'duplicate'
  and not is_information_only
  and (p_department is null or department = p_department)
  and (p_district is null or district = p_district)
  and (p_category is null or category = p_category)
  and (p_request_type is null or request_type = p_request_type)
  and (p_channel is null or channel = p_channel)
"""


# Per day and dimension values: requests created (with their on-time counts) and requests that
# stopped being open. Counted like scoped_requests (no duplicates, no information-only calls).
# Periods are whole days, so sums over days give the same counts as the request rows, cheaply:
# open at midnight of day D = created before D − stopped being open before D (a request
# closed before it was created stops on the day it was created).
DAILY_FLOWS_TABLE = """
create table daily_flows as
with counted as (
    select
        department, category, request_type, district, channel,
        created_at::date as created_day,
        case when open_until is not null then greatest(open_until, created_at)::date end
            as closed_day,
        is_on_time
    from requests
    where closure is distinct from 'duplicate' and not is_information_only
),

flows as (
    select
        created_day as day, department, category, request_type, district, channel,
        1 as created, is_on_time::integer as on_time, (is_on_time is not null)::integer as due,
        0 as closed
    from counted
    union all
    select
        closed_day as day, department, category, request_type, district, channel,
        0, 0, 0, 1
    from counted
    where closed_day is not null
)

select
    day, department, category, request_type, district, channel,
    sum(created)::integer as count_created,
    sum(on_time)::integer as count_on_time,
    sum(due)::integer as count_on_time_eligible,
    sum(closed)::integer as count_closed
from flows
group by all
order by day
"""





SCOPED_FLOWS_MACRO = dimension_macro("scoped_flows", "daily_flows")

# Per dimension values: the requests open now (at the as-of time; counted like scoped_requests),
# and how many of them have a due date. With daily_flows this gives the requests open at any
# midnight D from the days on and after D only (which are few: periods end at the as-of day):
#   open at D = count_open − Σ_{day ≥ D} (count_created − count_closed),
# because Σ over all days of (count_created − count_closed) is the requests never closed. The
# same holds for daily_overdue with count_open_with_due_at (see there).
OPEN_NOW_TABLE = """
create table open_now as
select
    department, category, request_type, district, channel,
    count(*)::integer as count_open,
    count(due_at)::integer as count_open_with_due_at
from requests
where closure is distinct from 'duplicate' and not is_information_only and open_until is null
group by all
order by all
"""

SCOPED_OPEN_MACRO = dimension_macro("scoped_open", "open_now")

# Per day and dimension values: requests that became open and past due that day (on the due
# day, or the day they were created if they were already due then, while still open) and
# requests that stopped being open and past due (closed that day, after their due time). Days
# run into the future (due dates after the as-of time): so, like open_now and daily_flows,
#   open and past due at midnight D = count_open_with_due_at − Σ_{day ≥ D} (started − ended).
DAILY_OVERDUE_TABLE = """
create table daily_overdue as
with counted as (
    select
        department, category, request_type, district, channel,
        greatest(created_at, due_at) as overdue_from,
        open_until
    from requests
    where closure is distinct from 'duplicate' and not is_information_only
      and due_at is not null
      and (open_until is null or open_until > greatest(created_at, due_at))
),

changes as (
    select
        overdue_from::date as day, department, category, request_type, district, channel,
        1 as started, 0 as ended
    from counted
    union all
    select
        open_until::date as day, department, category, request_type, district, channel, 0, 1
    from counted
    where open_until is not null
)

select
    day, department, category, request_type, district, channel,
    sum(started)::integer as count_became_overdue,
    sum(ended)::integer as count_stopped_overdue
from changes
group by all
order by day
"""

SCOPED_OVERDUE_MACRO = dimension_macro("scoped_overdue", "daily_overdue")

# The bands of days to close the Trends page charts: (order, label, low_days, high_days), each
# [low_days, high_days), contiguous from 0, the last open-ended.
DAYS_TO_CLOSE_BANDS = (
    (1, "under 1 day", 0.0, 1.0),
    (2, "1–2 days", 1.0, 2.0),
    (3, "2–3 days", 2.0, 3.0),
    (4, "3–7 days", 3.0, 7.0),
    (5, "7–14 days", 7.0, 14.0),
    (6, "14–30 days", 14.0, 30.0),
    (7, "30–90 days", 30.0, 90.0),
    (8, "over 90 days", 90.0, None),
)


def _sql_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


DAYS_TO_CLOSE_BANDS_TABLE = f"""
create table days_to_close_bands as
select band_order::integer as band_order, band_label, low_days::double as low_days,
       high_days::double as high_days
from (
    values
        {", ".join("(" + ", ".join(_sql_literal(v) for v in band) + ")"
                   for band in DAYS_TO_CLOSE_BANDS)}
) as bands (band_order, band_label, low_days, high_days)
"""

# Per day of creation, dimension values and band of days to close: the requests created that
# day and closed (days_to_close not NULL; counted like scoped_requests, so read from
# counted_requests) that took that long.
DAILY_CLOSE_BANDS_TABLE = f"""
create table daily_close_bands as
select
    day, department, category, request_type, district, channel,
    case
        {" ".join(f"when days_to_close < {high!r} then {order}"
                  for order, _, _, high in DAYS_TO_CLOSE_BANDS if high is not None)}
        else {DAYS_TO_CLOSE_BANDS[-1][0]}
    end::integer as band_order,
    count(*)::integer as count_closed
from counted_requests
where days_to_close is not null
group by all
order by day
"""

SCOPED_CLOSE_BANDS_MACRO = dimension_macro("scoped_close_bands", "daily_close_bands")

# The channels requests came in by (a filter's choices, without scanning the requests).
CHANNELS_TABLE = """
create table channels as
select channel, count(*) as count_requests
from requests
group by channel
order by channel
"""

# The latitude the map's flat projection is taken at: the districts' centre, else the requests'.
MAP_REFERENCE_TABLE = """
create table map_reference as
select coalesce(
    (select avg(center_lat) from districts),
    (select avg(lat) from requests),
    0
) as ref_lat
"""

# daily_flows rolled up over district and channel: per day and request type (with its department
# and category), some forty times fewer rows. Queries that neither group nor filter by district
# or channel read it through scoped_type_flows, which falls back to daily_flows when a district or
# channel filter is set (the branch whose condition is false is pruned when the query is planned).
DAILY_TYPE_FLOWS_TABLE = """
create table daily_type_flows as
select
    day, department, category, request_type,
    sum(count_created)::integer as count_created,
    sum(count_on_time)::integer as count_on_time,
    sum(count_on_time_eligible)::integer as count_on_time_eligible,
    sum(count_closed)::integer as count_closed
from daily_flows
group by all
order by day
"""

SCOPED_TYPE_FLOWS_MACRO = """
create or replace macro scoped_type_flows(
    p_department, p_district, p_category, p_request_type, p_channel
) as table
select
    day, department, category, request_type,
    count_created, count_on_time, count_on_time_eligible, count_closed
from daily_type_flows
where p_district is null and p_channel is null
  and (p_department is null or department = p_department)
  and (p_category is null or category = p_category)
  and (p_request_type is null or request_type = p_request_type)
union all
select
    day, department, category, request_type,
    count_created, count_on_time, count_on_time_eligible, count_closed
from scoped_flows(p_department, p_district, p_category, p_request_type, p_channel)
where p_district is not null or p_channel is not null
"""

# The requests that count in performance figures (as scoped_requests: no duplicates, no
# information-only calls), narrowed to what the medians and the density map read: the day of
# creation (periods are whole days), the five dimensions, the location and days_to_close (NULL
# unless closed). Sorted by day and then days_to_close, so a period's rows are contiguous and
# arrive nearly in order: DuckDB's exact quantiles run two to three times faster on them.
COUNTED_REQUESTS_TABLE = """
create table counted_requests as
select
    created_at::date as day, department, category, request_type, district, channel,
    lat, lon, days_to_close
from requests
where closure is distinct from 'duplicate' and not is_information_only
order by day, days_to_close
"""

SCOPED_COUNTED_MACRO = dimension_macro("scoped_counted", "counted_requests")

# What the public pages read besides the requests, built in the public snapshot from its own rows.
# The tables grouped by request type that the internal snapshot counts from its requests and the
# public one copies from it (without the aggregate-only types): name and statement.
FLOW_TABLES = (
    ("daily_flows", DAILY_FLOWS_TABLE),
    ("open_now", OPEN_NOW_TABLE),
    ("daily_overdue", DAILY_OVERDUE_TABLE),
)

PUBLIC_AGGREGATES = (
    DAILY_TYPE_FLOWS_TABLE,
    SCOPED_TYPE_FLOWS_MACRO,
    COUNTED_REQUESTS_TABLE,
    SCOPED_COUNTED_MACRO,
    SCOPED_OVERDUE_MACRO,
    DAYS_TO_CLOSE_BANDS_TABLE,
    DAILY_CLOSE_BANDS_TABLE,
    SCOPED_CLOSE_BANDS_MACRO,
    CHANNELS_TABLE,
    MAP_REFERENCE_TABLE,
)

# What the staff pages read besides the requests (civicstat/publish/staff_tables.py), built in the
# internal snapshot only, from its own rows (so with the aggregate-only types the public lacks).
INTERNAL_AGGREGATES = (
    DAILY_TYPE_FLOWS_TABLE,
    SCOPED_TYPE_FLOWS_MACRO,
    SCOPED_OVERDUE_MACRO,
    CHANNELS_TABLE,
    *STAFF_TABLES,
)


def publish(city: City, *, now: datetime | None = None) -> dict:
    """Build both snapshots from the city's store and swap them in. Returns the snapshot info."""
    city.build_dir.mkdir(parents=True, exist_ok=True)
    built_at = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    con = duckdb.connect(config={
        "autoinstall_known_extensions": False,
        # Bounded memory at any size: DuckDB spills sorts and aggregates beyond this to disk.
        "memory_limit": os.environ.get("CIVICSTAT_PUBLISH_MEMORY", "6GB"),
        "temp_directory": str(city.build_dir / ".publish-spill"),
    })
    con.execute("set enable_progress_bar = false")
    try:
        con.execute(f"attach '{_sql_path(city.store_path)}' as store (read_only)")
        _register_request_types(con, city)
        info = _snapshot_info(con, city, built_at)
        version = info["version"]
        internal = _write_snapshot(
            con, city.internal_path, version, lambda db: _fill_internal(con, db, city, info)
        )
        # The public rows come from the internal snapshot just written: already sorted and
        # with the derived columns, so the expensive sort runs once.
        con.execute(f"attach '{_sql_path(internal)}' as sorted (read_only)")
        try:
            _write_snapshot(
                con, city.public_path, version, lambda db: _fill_public(con, db, city, info)
            )
        finally:
            con.execute("detach sorted")
    finally:
        con.close()
    return info


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write_snapshot(con: duckdb.DuckDBPyConnection, link: Path, version: str, fill) -> Path:
    """Write a snapshot to a temporary file, checkpoint and close it, give it its version's
    name, then point `link` at it atomically and remove superseded versions. Returns the
    versioned file."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"attach '{_sql_path(tmp)}' as snap")
    try:
        fill("snap")
        con.execute("checkpoint snap")
    except BaseException:
        con.execute("detach snap")
        tmp.unlink(missing_ok=True)
        raise
    con.execute("detach snap")
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    versioned = link.with_name(f"{link.stem}-{version}{link.suffix}")
    os.replace(tmp, versioned)
    new_link = link.with_name(f".{link.name}.{os.getpid()}.link")
    new_link.unlink(missing_ok=True)
    new_link.symlink_to(versioned.name)
    os.replace(new_link, link)
    _remove_old_versions(link, keep=2)
    return versioned


def _remove_old_versions(link: Path, keep: int) -> None:
    """Delete all but the newest `keep` versioned files (readers that still have an old one
    open keep reading it: on POSIX an open file outlives its name)."""
    versions = sorted(
        link.parent.glob(f"{link.stem}-*{link.suffix}"), key=lambda p: p.stat().st_mtime_ns
    )
    current = link.resolve()
    for old in versions[:-keep]:
        if old != current:
            old.unlink(missing_ok=True)


def _register_request_types(con: duckdb.DuckDBPyConnection, city: City) -> None:
    """A temp table of request types with their department, category, target and privacy tier."""
    con.execute(
        """
        create temp table request_types as
        select request_type, arg_max(department, n) as department,
               arg_max(category, n) as category, sum(n) as count_requests
        from (
            select request_type, department, category, count(*) as n
            from store.requests group by all
        ) group by request_type
        """
    )
    con.execute("alter table request_types add column target_hours double")
    con.execute("alter table request_types add column privacy_tier varchar")
    rows = [
        (rtype, city.target_hours.get(rtype, city.default_target_hours), tier)
        for rtype, tier in _all_types(con, city)
    ]
    if rows:
        con.executemany(
            "update request_types set target_hours = ?, privacy_tier = ? where request_type = ?",
            [(hours, tier, rtype) for rtype, hours, tier in rows],
        )


def _all_types(con: duckdb.DuckDBPyConnection, city: City):
    for (rtype,) in con.execute("select request_type from request_types").fetchall():
        yield rtype, city.sensitive.get(rtype or "")


def _snapshot_info(con: duckdb.DuckDBPyConnection, city: City, built_at: datetime) -> dict:
    """Version (build time + content hash), as-of time and counts for both snapshots."""
    count, content_hash, as_of = con.execute(
        """
        select count(*),
               coalesce(bit_xor(hash(r)), 0),
               max(greatest(created_at, coalesce(updated_at, created_at),
                            coalesce(closed_at, created_at)))
        from store.requests as r  -- hash(r): every column of the row
        """
    ).fetchone()
    content = f"{int(content_hash):016x}"
    return {
        "format": SNAPSHOT_FORMAT,
        "version": f"{built_at:%Y%m%dT%H%M%S}-{content[:12]}",
        "built_at": built_at,
        "content_hash": content,
        "as_of": as_of,
        "city_name": city.name,
        "timezone": city.timezone,
        "fiscal_year_start_month": city.fiscal_year_start_month,
        "k": city.k,
        "count_requests": int(count),
        "sensitive": json.dumps(city.sensitive, sort_keys=True),
    }


def _write_info(con: duckdb.DuckDBPyConnection, db: str, info: dict, audience: str) -> None:
    """A one-row snapshot_info table: version, as-of, city, policy."""
    row = {**info, "audience": audience}
    columns = ", ".join(f"${key} as {key}" for key in row)
    con.execute(f"create table {db}.snapshot_info as select {columns}", row)


def _write_dimensions(
    con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict, audience: str
) -> None:
    """Tables every snapshot shares: request types, districts, sources, the scoped macro."""
    con.execute(f"create table {db}.request_types as select * from request_types order by 1")
    con.execute(
        f"""
        create table {db}.sources as
        select source, count(*) as count_requests,
               min(created_at) as first_created_at, max(created_at) as last_created_at
        from store.requests group by source order by source
        """
    )
    con.execute(f"use {db}")  # the macros must name tables unqualified, as readers see them
    try:
        con.execute(SCOPED_REQUESTS_MACRO.format(db=db))
        con.execute(SCOPED_FLOWS_MACRO)
        con.execute(SCOPED_OPEN_MACRO)
    finally:
        con.execute("use memory")
    _write_districts(con, db, city)
    _write_info(con, db, info, audience)


def _write_districts(con: duckdb.DuckDBPyConnection, db: str, city: City) -> None:
    """District polygons (simplified GeoJSON, WGS84) and populations, for maps."""
    frame = district_shapes(city)
    con.execute(
        f"create table {db}.districts (district varchar, population bigint, "
        "center_lat double, center_lon double, geometry_json varchar)"
    )
    if frame is not None:
        con.register("district_frame", frame)
        con.execute(f"insert into {db}.districts select * from district_frame")
        con.unregister("district_frame")


def _fill_internal(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    columns = ", ".join(COLUMN_NAMES)
    con.execute(
        f"create table {db}.requests as select {columns}, flags, "
        f"{derived_columns(info['as_of'])} "
        "from store.requests r order by created_at"
    )
    con.execute(f"create table {db}.quarantine as select * from store.quarantine")
    con.execute(f"create table {db}.ingest_runs as select * from store.ingest_runs")
    con.execute(f"use {db}")  # as in _write_dimensions: tables and macros named unqualified
    try:
        for _, statement in FLOW_TABLES:
            con.execute(statement)
    finally:
        con.execute("use memory")
    _write_dimensions(con, db, city, info, "internal")
    con.execute(f"use {db}")
    try:
        for statement in INTERNAL_AGGREGATES:
            con.execute(statement)
    finally:
        con.execute("use memory")


def _fill_public(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    # Plain filters on the type (no join), so the rows stream through in their sorted order.
    types_of = {
        tier: [rtype for rtype, its_tier in city.sensitive.items() if its_tier == tier]
        for tier in ("aggregate_only", "no_location")
    }
    not_aggregate_only = "request_type is null or not list_contains($aggregate_only, request_type)"
    tier = "case when list_contains($no_location, r.request_type) then 'no_location' end"
    con.execute(
        f"""
        create table {db}.requests as
        select {public_select_list("r", tier)}, {derived_select_list("r")}
        from sorted.requests r
        where {not_aggregate_only}
        """,
        types_of,
    )
    # aggregate_only types never appear request by request: only city-wide monthly counts
    # (duplicates left out), which the public pages show with small counts suppressed.
    con.execute(
        f"""
        create table {db}.aggregate_only_monthly as
        select r.request_type, date_trunc('month', r.created_at)::date as month,
               count(*) as count_requests
        from store.requests r
        join request_types t using (request_type)
        where t.privacy_tier = 'aggregate_only' and r.closure is distinct from 'duplicate'
        group by all
        order by all
        """
    )
    # The flow tables are grouped by request type, so the public ones are the internal ones
    # without the aggregate-only types' rows: copied, not recounted from the requests.
    for table, _ in FLOW_TABLES:
        con.execute(
            f"create table {db}.{table} as select * from sorted.{table} where {not_aggregate_only}",
            {"aggregate_only": types_of["aggregate_only"]},
        )
    _write_dimensions(con, db, city, info, "public")
    con.execute(f"use {db}")  # as in _write_dimensions: tables and macros named unqualified
    try:
        for statement in PUBLIC_AGGREGATES:
            con.execute(statement)
    finally:
        con.execute("use memory")


def derived_select_list(alias: str) -> str:
    """The derived columns as already computed in a snapshot's requests table."""
    return ", ".join(f"{alias}.{name}" for name in DERIVED_COLUMN_NAMES)


def district_shapes(city: City) -> pd.DataFrame | None:
    """The district layer as rows (district, population, centre, simplified GeoJSON)."""
    layer = city.layer("district")
    if layer is None or not layer.file.is_file():
        return None
    from civicstat.core.geo import read_boundary  # geopandas is slow to import: only when needed

    keep = [layer.population] if layer.population else []
    shapes = read_boundary(layer.file, layer.key, layer.crs, keep=keep)
    shapes = shapes.dissolve(by="name", aggfunc="first", as_index=False)  # one row per district
    simplified = shapes.geometry.simplify(0.0003, preserve_topology=True)
    centers = shapes.geometry.representative_point()
    population = (
        pd.to_numeric(shapes[layer.population], errors="coerce").round().astype("Int64")
        if layer.population and layer.population in shapes
        else pd.Series(pd.NA, index=shapes.index, dtype="Int64")
    )
    return pd.DataFrame(
        {
            "district": shapes["name"],
            "population": population,
            "center_lat": centers.y,
            "center_lon": centers.x,
            "geometry_json": [json.dumps(g.__geo_interface__) for g in simplified],
        }
    )
