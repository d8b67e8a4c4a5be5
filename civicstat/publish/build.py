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
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from civicstat.core.asof import as_of_note, choose_as_of, status_note
from civicstat.core.city import City
from civicstat.core.errors import InputError, store_busy
from civicstat.core.schema import IMPLAUSIBLE_DATE_FLAGS
from civicstat.publish import incremental
from civicstat.publish.models import Model, ModelError, snapshot_models
from civicstat.serve.snapshots import SNAPSHOT_FORMAT, connect_snapshot, read_info

# Every table, view and macro in a snapshot besides request_types, districts and snapshot_info
# (written here from the city's configuration) is a model in queries/snapshot (loaded, checked
# and ordered by civicstat/publish/models.py). The internal snapshot is written first, from the
# store; the public one then reads its sorted rows and flow tables, attached as `internal`.


def publish(city: City, *, now: datetime | None = None, full: bool = False) -> dict:
    """Build both snapshots from the city's store and swap them in. Returns the snapshot info,
    with `publish_mode` (incremental or full) and `publish_reason` (why).

    Incremental (civicstat/publish/incremental.py) when the previous snapshots can be brought up
    to date with the requests changed since; in full when `full` or when they cannot."""
    city.build_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(city.build_dir)
    align_links(city)
    built_at = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    con = duckdb.connect(config={
        "autoinstall_known_extensions": False,
        # Bounded memory at any size: DuckDB spills sorts and aggregates beyond this to disk.
        "memory_limit": os.environ.get("CIVICSTAT_PUBLISH_MEMORY", "6GB"),
        "temp_directory": str(city.build_dir / ".publish-spill"),
    })
    con.execute("set enable_progress_bar = false")
    try:
        if not city.store_path.is_file():
            raise InputError(f"{city.root} has no store yet: load an export first (civicstat ingest)")
        try:
            con.execute(f"attach '{_sql_path(city.store_path)}' as store (read_only)")
        except duckdb.IOException as exc:
            raise store_busy(city.store_path, exc) from exc
        clock = time.perf_counter()
        _register_request_types(con, city)
        info = _snapshot_info(con, city, built_at)
        plan = _plan(con, city, info, full)
        if isinstance(plan, str):
            mode, reason, start = "full", plan, (None, None)
            (content,) = con.execute(
                f"select coalesce(bit_xor({incremental.CONTENT_HASH}), 0) from store.requests"  # noqa: S608
            ).fetchone()
            info = _versioned(info, f"{int(content):016x}", rows_since_full=0)
        else:
            delta, start = plan
            mode = "incremental"
            reason = (f"{delta.count_changed - delta.count_by_as_of:,} requests changed since "
                      f"ingest run {delta.since_run}, {delta.count_by_as_of:,} more came due as "
                      "the as-of moved")
            info = _versioned(info, delta.content_hash, rows_since_full=delta.rows_since_full)
        version = info["version"]
        seconds = {"prepare": time.perf_counter() - clock}
        clock = time.perf_counter()
        fill_internal = _fill_internal if mode == "full" else _update_internal
        fill_public = _fill_public if mode == "full" else _update_public
        internal = _write_snapshot(
            con, city.internal_path, version, lambda db: fill_internal(con, db, city, info),
            start_from=start[0],
        )
        seconds["internal"], clock = time.perf_counter() - clock, time.perf_counter()
        # The public rows come from the internal snapshot just written: already sorted and
        # with the derived columns, so the expensive sort runs once.
        con.execute(f"attach '{_sql_path(internal)}' as internal (read_only)")
        try:
            public = _write_snapshot(
                con, city.public_path, version, lambda db: fill_public(con, db, city, info),
                start_from=start[1],
            )
        except BaseException:
            con.execute("detach internal")
            if internal != city.internal_path.resolve():  # (the same version published again)
                internal.unlink(missing_ok=True)
            raise
        con.execute("detach internal")
        seconds["public"] = time.perf_counter() - clock
    finally:
        con.close()
    # Both files are complete: only now are the links swapped, back to back, so a failure or a
    # kill before this line leaves both snapshots at the old version.
    _swap_in(city.internal_path, internal)
    _swap_in(city.public_path, public)
    # what it did and why, and where the time went (seconds per step; per table when incremental)
    return {**info, "publish_mode": mode, "publish_reason": reason,
            "publish_seconds": {k: round(v, 2) for k, v in seconds.items()}}


def _plan(con: duckdb.DuckDBPyConnection, city: City, info: dict, full: bool):
    """(Delta, (previous internal file, previous public file)) for an incremental publish, or
    the reason to publish in full (a string)."""
    if full:
        return "a full publish was asked for"
    try:
        incremental.check_models()
    except ModelError as error:
        return f"a model cannot be followed incrementally: {error}"
    previous = _previous_snapshots(city)
    if isinstance(previous, str):
        return previous
    internal, public, old_info = previous
    con.execute(f"attach '{_sql_path(internal)}' as previous (read_only)")
    try:
        delta = incremental.changed_requests(
            con, old_info, info["as_of"], info["count_requests"], info["recipe"])
    finally:
        con.execute("detach previous")
    return delta if isinstance(delta, str) else (delta, (internal, public))


def _previous_snapshots(city: City):
    """(internal file, public file, internal info) of the published version, or why none can
    be followed incrementally."""
    version = _version_of(city.internal_path)
    if version is None or version != _version_of(city.public_path):
        return "no previous snapshots"
    internal, public = city.internal_path.resolve(), city.public_path.resolve()
    if not (internal.is_file() and public.is_file()):
        return "no previous snapshots"
    try:
        with duckdb.connect(str(internal), read_only=True) as con:
            frame = con.execute("select * from snapshot_info").df()
    except duckdb.Error:
        return "the previous snapshot cannot be read"
    old = {k: (None if _missing(v) else v) for k, v in frame.iloc[0].to_dict().items()}
    if old.get("format") != SNAPSHOT_FORMAT or "recipe" not in old:
        return "the previous snapshot comes from another version of CivicStat"
    return internal, public, old


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _versioned(info: dict, content: str, *, rows_since_full: int) -> dict:
    built_at = info["built_at"]
    return {**info, "version": f"{built_at:%Y%m%dT%H%M%S}-{content[:12]}", "content_hash": content,
            "rows_since_full": rows_since_full}


def snapshots_behind(city: City) -> bool:
    """Whether the store holds an ingest run the published snapshots do not include (an ingest
    killed after it committed and before it published), so the next run publishes it even when
    it changes nothing itself."""
    if not city.store_path.is_file():
        return False
    try:
        with duckdb.connect(str(city.store_path), read_only=True) as con:
            (last,) = con.execute("select max(run_id) from ingest_runs").fetchone()
    except duckdb.Error:
        return False  # busy or unreadable: the caller's own run decides
    if last is None:
        return False
    if not city.internal_path.exists():
        return True
    with connect_snapshot(city.internal_path) as con:
        published = read_info(con).get("store_run")
    return published is None or pd.isna(published) or int(published) < int(last)


def _version_of(link: Path) -> str | None:
    """The version a snapshot link points at (from `<stem>-<version>.duckdb`), or None."""
    if not link.is_symlink():
        return None
    name = os.readlink(link)
    prefix = f"{link.stem}-"
    return name[len(prefix):-len(link.suffix)] if name.startswith(prefix) else None


def align_links(city: City) -> str | None:
    """Point both snapshot links at one version, should a publish have been killed between its
    two swaps (both files of the newer version exist then: they are written before either link
    moves). Returns the version both links then share."""
    links = (city.internal_path, city.public_path)
    versions = {link: _version_of(link) for link in links}
    pointed = [link for link in links if versions[link] and link.exists()]
    if not pointed:
        return None
    # the newer is the one written last (two versions can share a build second)
    newest = versions[max(pointed, key=lambda link: link.stat().st_mtime_ns)]
    for link in links:
        target = link.with_name(f"{link.stem}-{newest}{link.suffix}")
        if versions[link] != newest and target.is_file():
            _swap_in(link, target)
    return newest


# What a publish writes before its swap: `.<link>.<pid>.tmp` (and DuckDB's `.wal` beside it) and
# `.<link>.<pid>.link`. A publish killed before its swap leaves them behind.
_LEFTOVER = re.compile(r"^\.(?:internal|public)\.duckdb\.(\d+)\.(?:tmp|tmp\.wal|link)$")


def remove_leftovers(build_dir: Path) -> list[Path]:
    """Delete the temporary files of publishes that are no longer running (killed ones), and
    their spill files; a publish still running (its process alive) keeps its own. Returns what
    was removed."""
    removed = []
    alive = set()
    for path in build_dir.iterdir():
        match = _LEFTOVER.match(path.name)
        if not match:
            continue
        pid = int(match.group(1))
        if _running(pid):
            alive.add(pid)
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    spill = build_dir / ".publish-spill"
    if spill.is_dir() and not alive:
        for path in spill.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write_snapshot(con: duckdb.DuckDBPyConnection, link: Path, version: str, fill,
                    start_from: Path | None = None) -> Path:
    """Write a snapshot to a temporary file (a copy of `start_from`, for an incremental
    publish), checkpoint and close it, and give it its version's name beside `link` (which
    _swap_in later points at it). Returns the versioned file."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if start_from is not None:
        shutil.copyfile(start_from, tmp)
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
    return versioned


def _swap_in(link: Path, versioned: Path) -> None:
    """Point `link` at `versioned` atomically (a new symlink renamed over the old one), then
    remove superseded versions."""
    new_link = link.with_name(f".{link.name}.{os.getpid()}.link")
    new_link.unlink(missing_ok=True)
    new_link.symlink_to(versioned.name)
    os.replace(new_link, link)
    _remove_old_versions(link, keep=2)


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
        select request_type,
               -- the most frequent; a tie goes to the first name, so every publish agrees
               first(department order by n desc, department nulls last) as department,
               first(category order by n desc, category nulls last) as category,
               sum(n) as count_requests
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
    """As-of time and counts for both snapshots (the version and content hash are added by
    publish: in full from the whole store, incrementally from the changed requests)."""
    count, latest_activity, latest_created, without_status = con.execute(
        """
        select count(*),
               max(greatest(created_at, coalesce(updated_at, created_at),
                            coalesce(closed_at, created_at)))
                   filter (where not coalesce(list_has_any(flags, $implausible), false)),
               max(created_at)
                   filter (where not coalesce(list_has_any(flags, $implausible), false)),
               count(*) filter (where status is null)
        from store.requests
        """,
        {"implausible": list(IMPLAUSIBLE_DATE_FLAGS)},
    ).fetchone()
    as_of, basis = choose_as_of(latest_activity, latest_created, city.as_of)
    notes = [as_of_note(as_of, basis, latest_activity), status_note(without_status, count)]
    (store_run,) = con.execute("select max(run_id) from store.ingest_runs").fetchone()
    return {
        "format": SNAPSHOT_FORMAT,
        "version": None,
        "built_at": built_at,
        "content_hash": None,  # of every request's content (incremental.CONTENT_HASH)
        "as_of": as_of,
        "as_of_basis": basis,  # core/asof.py: data, last_request or city.toml
        "count_without_status": int(without_status),  # volume only, never backlog
        "data_note": " ".join(n for n in notes if n),  # what the pages say about both
        "city_name": city.name,
        "timezone": city.timezone,
        "fiscal_year_start_month": city.fiscal_year_start_month,
        "k": city.k,
        "count_requests": int(count),
        "store_run": store_run,  # the store's last ingest run this snapshot includes
        "sensitive": json.dumps(city.sensitive, sort_keys=True),
        # how the pages show districts and which base map they draw: the app reads no city.toml
        "district_labels": city.district_labels.to_json(),
        "map_style": city.map_style or "",
        "recipe": incremental.recipe(city),  # what else the content depends on
        "rows_since_full": 0,  # requests changed by incremental publishes since the last full one
    }


def _write_info(con: duckdb.DuckDBPyConnection, db: str, info: dict, audience: str) -> None:
    """A one-row snapshot_info table: version, as-of, city, policy."""
    row = {**info, "audience": audience}
    columns = ", ".join(f"${key} as {key}" for key in row)
    con.execute(f"create table {db}.snapshot_info as select {columns}", row)


def _write_inputs(
    con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict, audience: str
) -> None:
    """What the models may read besides the store: request types, districts, snapshot info."""
    con.execute(f"create table {db}.request_types as select * from request_types order by 1")
    _write_districts(con, db, city)
    _write_info(con, db, info, audience)


def _write_districts(con: duckdb.DuckDBPyConnection, db: str, city: City) -> None:
    """District polygons (simplified GeoJSON, WGS84) and populations, for maps; for a city
    without a district boundary layer, the districts its requests name, with no shape."""
    frame = district_shapes(city)
    con.execute(
        f"create table {db}.districts (district varchar, population bigint, "
        "center_lat double, center_lon double, geometry_json varchar)"
    )
    if frame is not None:
        con.register("district_frame", frame)
        con.execute(f"insert into {db}.districts select * from district_frame")
        con.unregister("district_frame")
    else:  # no district layer: the export's own districts, by name only (no shape to draw)
        con.execute(f"insert into {db}.districts select distinct district, null, null, null, "
                    "null from store.requests where district is not null order by 1")


def _fill_internal(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    _write_inputs(con, db, city, info, "internal")
    _build_models(con, db, "internal", {"as_of": info["as_of"]})


def _update_internal(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    """The previous internal snapshot (copied to `db`) brought up to date incrementally."""
    _drop_inputs(con, db)
    _write_inputs(con, db, city, info, "internal")
    _update_models(con, db, "internal", {"as_of": info["as_of"]})


def _update_public(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    _drop_inputs(con, db)
    _write_inputs(con, db, city, info, "public")
    _update_models(con, db, "public", {"as_of": info["as_of"], **_sensitive_types(city)})


def _drop_inputs(con: duckdb.DuckDBPyConnection, db: str) -> None:
    for table in ("request_types", "districts", "snapshot_info"):
        con.execute(f"drop table {db}.{table}")


def _update_models(
    con: duckdb.DuckDBPyConnection, db: str, snapshot: str, values: dict[str, object]
) -> None:
    con.execute(f"use {db}")
    try:
        incremental.Updater(con, snapshot, values, _build_model).run()
    finally:
        con.execute("use memory")


def _sensitive_types(city: City) -> dict[str, list[str]]:
    return {
        tier: [rtype for rtype, its_tier in city.sensitive.items() if its_tier == tier]
        for tier in ("aggregate_only", "no_location")
    }


def _fill_public(con: duckdb.DuckDBPyConnection, db: str, city: City, info: dict) -> None:
    _write_inputs(con, db, city, info, "public")
    _build_models(con, db, "public", {"as_of": info["as_of"], **_sensitive_types(city)})


def _build_models(
    con: duckdb.DuckDBPyConnection, db: str, snapshot: str, values: dict[str, object]
) -> None:
    """Create the snapshot's models in dependency order, each with the values it declares."""
    con.execute(f"use {db}")  # the models name tables and macros unqualified, as readers see them
    try:
        for model in snapshot_models()[snapshot]:
            _build_model(con, model, values)
    finally:
        con.execute("use memory")


def _build_model(con: duckdb.DuckDBPyConnection, model: Model, values: dict[str, object]) -> None:
    bound = model.values(values)
    if bound:
        con.execute(model.statement(), bound)
    else:
        con.execute(model.statement())


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
