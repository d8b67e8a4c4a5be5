"""The demo city Riverton: deterministic, complete, and shaped like a real 311 feed."""

from __future__ import annotations

import duckdb
import geopandas as gpd
import pytest

from civicstat.core.city import load_city
from civicstat.demo.generator import CATALOG, SENSITIVE, build_demo

ROWS = 20_000


def _build(path, seed=311):
    calls = []
    build_demo(path, rows=ROWS, seed=seed, progress=lambda done, total: calls.append((done, total)))
    return calls


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("riverton")
    calls = _build(path)
    assert calls and calls[-1] == (ROWS, ROWS)
    return path


@pytest.fixture(scope="module")
def con(city_dir):
    connection = duckdb.connect(str(city_dir / "store.duckdb"), read_only=True)
    yield connection
    connection.close()


def _all_rows(path):
    with duckdb.connect(str(path / "store.duckdb"), read_only=True) as c:
        return c.execute("select * from requests order by request_id").fetchall()


def _one(con, sql):
    return con.execute(sql).fetchone()[0]


def test_same_seed_gives_the_same_rows(city_dir, tmp_path):
    _build(tmp_path / "again")
    _build(tmp_path / "other", seed=312)
    rows = _all_rows(city_dir)
    assert rows == _all_rows(tmp_path / "again")
    assert rows != _all_rows(tmp_path / "other")


def test_rebuild_replaces_the_store(tmp_path):
    _build(tmp_path)
    _build(tmp_path)
    with duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True) as c:
        assert _one(c, "select count(*) from requests") == ROWS
        assert _one(c, "select count(*) from ingest_runs") == 1


def test_row_count_ids_and_store_columns(con):
    assert _one(con, "select count(*) from requests") == ROWS
    assert _one(con, "select count(distinct request_id) from requests") == ROWS
    assert _one(con, "select count(*) from requests where request_id not like 'RIV-%'") == 0
    assert _one(con, "select bool_and(run_id = 0 and flags is null and source = 'demo') "
                     "from requests")
    run = con.execute("select run_id, source, count_read, count_inserted from ingest_runs").fetchall()
    assert run == [(0, "demo", ROWS, ROWS)]


def test_ids_follow_creation_order(con):
    out_of_order = _one(con, """
        select count(*) from (
            select created_at < lag(created_at) over (order by request_id) as earlier
            from requests
        ) where earlier
    """)
    assert out_of_order == 0


def test_three_full_years_up_to_the_as_of(con):
    first, last = con.execute("select min(created_at), max(created_at) from requests").fetchone()
    assert first.isoformat() < "2022-07-02" and last.isoformat() >= "2026-06-30"
    latest = _one(con, "select max(greatest(created_at, updated_at, closed_at)) from requests")
    assert latest.isoformat() <= "2026-06-30T23:59:00"
    volume = dict(con.execute("""
        select year(created_at + interval 6 month) as fy, count(*) from requests group by fy
    """).fetchall())
    assert volume[2026] > volume[2023]  # grows over the years


def test_districts_are_polygons_with_population(city_dir):
    districts = gpd.read_file(city_dir / "boundaries" / "districts.geojson")
    assert len(districts) >= 12
    assert set(districts.geom_type) <= {"Polygon", "MultiPolygon"}
    assert districts["district"].is_unique
    assert 850_000 < districts["population"].sum() < 950_000
    neighborhoods = gpd.read_file(city_dir / "boundaries" / "neighborhoods.geojson")
    assert 30 <= len(neighborhoods) <= 50
    assert districts.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = districts.total_bounds
    assert -88.5 < minx < maxx < -87.7 and 41.3 < miny < maxy < 41.9


def test_city_toml_reads_back_with_every_target(city_dir, con):
    city = load_city(city_dir)
    assert city.name == "Riverton" and city.timezone == "America/Chicago"
    assert city.fiscal_year_start_month == 7
    assert {b.layer for b in city.boundaries} == {"district", "neighborhood"}
    assert all(b.file.is_file() for b in city.boundaries)
    assert city.default_target_hours == 120
    assert city.sensitive == SENSITIVE
    assert set(city.sensitive.values()) == {"no_location", "aggregate_only"}
    assert "Streets & Sanitation" in city.goals

    types = {t.name for categories in CATALOG.values() for ts in categories.values() for t in ts}
    assert len(types) >= 60 and types <= set(city.target_hours)
    assert len(CATALOG) >= 10
    in_data = {r[0] for r in con.execute("select distinct request_type from requests").fetchall()}
    assert in_data <= set(city.target_hours)
    assert _one(con, "select count(distinct department) from requests") >= 10
    assert set(SENSITIVE) <= in_data


def test_due_at_is_created_plus_the_target(city_dir, con):
    targets = load_city(city_dir).target_hours
    rows = con.execute("""
        select request_type, (epoch(due_at) - epoch(created_at)) / 3600 as hours, count(*)
        from requests group by all
    """).fetchall()
    exact = sum(n for request_type, hours, n in rows if hours == targets[request_type])
    # a due time in the hour skipped when clocks go forward reads one hour later
    assert all(hours - targets[request_type] in (0, 1) for request_type, hours, _ in rows)
    assert exact > 0.999 * ROWS


def test_no_local_time_in_the_skipped_dst_hour(con):
    assert _one(con, """
        select count(*) from requests, unnest([created_at, updated_at, closed_at, due_at]) t(ts)
        where month(ts) = 3 and day(ts) between 8 and 14 and dayofweek(ts) = 0 and hour(ts) = 2
    """) == 0


def test_district_matches_point_in_polygon(city_dir, con):
    sample = con.execute("""
        select lon, lat, district, neighborhood from requests
        using sample 500 rows (reservoir, 42)
    """).df()
    points = gpd.GeoDataFrame(
        sample, geometry=gpd.points_from_xy(sample.lon, sample.lat), crs="EPSG:4326"
    )
    for layer in ("district", "neighborhood"):
        areas = gpd.read_file(city_dir / "boundaries" / f"{layer}s.geojson")[[layer, "geometry"]]
        joined = gpd.sjoin(points, areas, how="left", predicate="within", rsuffix="polygon")
        assert len(joined) == len(points)  # each point in exactly one area
        assert (joined[f"{layer}_left"] == joined[f"{layer}_polygon"]).all(), layer


def test_duplicates_are_about_two_percent_and_closed_quickly(con):
    share = _one(con, "select avg((closure = 'duplicate')::int) from requests")
    assert 0.01 <= share <= 0.03
    slow = _one(con, """
        select count(*) from requests
        where closure = 'duplicate' and closed_at > created_at + interval 3 day
    """)
    assert slow == 0


def test_status_and_closure_agree(con):
    assert _one(con, """
        select count(*) from requests
        where (status = 'open') != (closed_at is null)
           or (status = 'open') != (closure is null)
           or (status = 'open') != (resolution is null)
           or status not in ('open', 'closed')
    """) == 0
    assert _one(con, "select count(*) from requests where closed_at < created_at") == 0
    assert _one(con, "select count(*) from requests where status = 'closed' "
                     "and updated_at != closed_at") == 0
    assert _one(con, "select count(*) from requests where updated_at < created_at") == 0
    closures = {r[0] for r in con.execute("select distinct closure from requests").fetchall()}
    assert closures == {None, "resolved", "duplicate", "cancelled", "referred", "other"}


def test_channel_shifts_from_phone_to_app(con):
    shares = con.execute("""
        select year(created_at + interval 6 month) as fy,
               avg((channel = 'app')::int), avg((channel = 'phone')::int)
        from requests group by fy order by fy
    """).fetchall()
    (_, app_first, phone_first), (_, app_last, phone_last) = shares[0], shares[-1]
    assert app_last > app_first + 0.1 and phone_last < phone_first - 0.1


def _share(con, request_type, month):
    return con.execute(
        "select avg((request_type = $type)::int) from requests where month(created_at) = $month",
        {"type": request_type, "month": month},
    ).fetchone()[0]


def test_seasons(con):
    assert _share(con, "Pothole", 3) > 2 * _share(con, "Pothole", 8)
    assert _share(con, "Heat/Hot Water", 1) > 5 * _share(con, "Heat/Hot Water", 7)
    assert _share(con, "Snow Plowing Request", 7) == 0
    assert _share(con, "Mosquitoes", 7) > _share(con, "Mosquitoes", 1)


def test_weekends_are_quieter_except_for_noise(con):
    by_day = con.execute("""
        select isodow(created_at) > 5 as weekend,
               count(*) filter (request_type not like 'Noise%') / count(distinct created_at::date),
               count(*) filter (request_type like 'Noise%') / count(distinct created_at::date)
        from requests group by weekend order by weekend
    """).fetchall()
    (_, other_weekday, noise_weekday), (_, other_weekend, noise_weekend) = by_day
    assert other_weekend < 0.8 * other_weekday
    assert noise_weekend > noise_weekday
    night_noise = _one(con, """
        select avg((hour(created_at) >= 21 or hour(created_at) < 3)::int)
        from requests where request_type like 'Noise%'
    """)
    assert night_noise > 0.4


def test_backlog_includes_old_requests(con):
    open_count, old = con.execute("""
        select count(*), count(*) filter (created_at < timestamp '2026-06-30 23:59' - interval 90 day)
        from requests where status = 'open'
    """).fetchone()
    assert open_count > 0 and old > 0


def test_slow_departments_and_districts_show(con):
    on_time = dict(con.execute("""
        select department, avg((closed_at <= due_at)::int) from requests
        where status = 'closed' and closure != 'duplicate' group by department
    """).fetchall())
    assert on_time["Buildings"] < on_time["Streets & Sanitation"] - 0.1
    assert on_time["Forestry"] < on_time["Water Management"] - 0.1


def test_text_columns(con):
    hostile = _one(con, """
        select count(*) from requests
        where description like '%<script>%' or description like '%onerror=%'
           or description like '%javascript:%'
    """)
    assert hostile >= 3
    assert _one(con, "select count(*) from requests where description like '%**bold**%'") >= 1
    assert _one(con, "select count(*) from requests where address is null") == 0
    assert _one(con, "select bool_and(regexp_matches(address, '^[0-9]+ [NSEW] [A-Z]')) "
                     "from requests")
