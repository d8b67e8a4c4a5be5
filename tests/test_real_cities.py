"""Each real city in ../shared/data loaded end to end through the real `civicstat` command, as a
city analyst would: `civicstat init`, then `civicstat ingest ... --json` twice.

For each city: exit 0; read = the records in the files (counted independently); read =
inserted + updated + unchanged + rejected; the replay is all unchanged; the stored created_at
range is the files' real range; the share of rows with a district is reported and above a floor
measured on these files. Then: NYC districts against geopandas.sjoin, the Overview on NYC
(AppTest), and unusable invocations (exit 2, one line).

Skipped with a message when ../shared is absent; a failure in CI (see conftest.shared_data).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import geopandas as gpd
import pytest
from test_real_exports import EXPORTS, _independent

pytestmark = pytest.mark.shared

PROJECT = Path(__file__).resolve().parent.parent
CIVICSTAT = Path(sys.executable).with_name("civicstat")  # the installed command, beside python
EXPORT_BY_NAME = {e.name: e for e in EXPORTS}
NYC_SJOIN_FLOOR = 0.99


@dataclass(frozen=True)
class CitySpec:
    """One city: how to `init` it, which files to `ingest`, and the district shares we measured."""

    key: str
    name: str
    timezone: str
    source: str
    boundary: str  # under ../shared/data
    district_key: str
    files: tuple[str, ...]  # under ../shared/data, in the order given to `ingest`
    # the least share of a file's stored rows with a district (measured on these files, minus a
    # little). A file all of whose records an earlier file already holds has no rows of its own.
    floors: dict[str, float] = field(default_factory=dict)


CITIES = (
    CitySpec(
        "nyc", "New York", "America/New_York", "nyc", "nyc/boundaries/city_council.geojson",
        "CounDist",
        tuple(f"nyc/311/{e.name}" for e in EXPORTS if e.city == "nyc"),
        {
            "nyc311_2013-12_nikeiubel.csv": 0.95,  # measured 0.966
            "nyc311_2018-06_mzuber88.csv": 0.88,  # 0.893: 107 rows without coordinates
            "nyc311_2020_reduced_gozzi98_noheader.csv": 0.0,  # no coordinates, no district column
            "nyc311_2022-05_fedhere.csv": 0.98,  # 0.988
            "nyc311_2024-05_anthonyupf.csv": 0.98,  # 0.988; its SODA JSON holds the same records
            "nyc311_2025-10_mohrum12.csv": 0.98,  # 0.989
            "nyc311_noise_janawalker.csv": 0.99,  # 0.996
        },
    ),
    CitySpec(
        "boston", "Boston", "America/New_York", "boston",
        # CRS84 lon/lat: no --crs needed (the precinct and Analyze Boston neighbourhood files are
        # State Plane without a CRS; see test_state_plane_boundary_needs_crs)
        "boston/boundaries/boston_wards_2020.geojson", "WARD",
        tuple(f"boston/311/{e.name}" for e in EXPORTS if e.city == "boston"),
        {
            "boston311_100_qsv.csv": 0.99,  # 1.000
            "boston311_animal_pest_2015_buspark.csv": 0.99,  # 0.996
            "boston311_animal_pest_2016_buspark.csv": 0.99,  # 0.999
            "boston311_animal_pest_2017_buspark.csv": 0.99,  # 0.997
        },
    ),
    CitySpec(
        "sf", "San Francisco", "America/Los_Angeles", "sf",
        "sf/boundaries/sf_supervisor_districts_2022_trimmed_hcgx-vtsb.geojson", "sup_dist",
        ("sf/311/sf311_sample_2008-2016.csv",),
        {"sf311_sample_2008-2016.csv": 0.99},  # 1.000
    ),
    CitySpec(
        "la", "Los Angeles", "America/Los_Angeles", "la",
        "la/boundaries/la_city_council_districts_2012.geojson", "name",
        ("la/311/myla311_2017_subset.csv", "la/311/myla311_2018_mini.csv"),
        {
            "myla311_2017_subset.csv": 0.99,  # 0.9996: the source's CD where no coordinates
            "myla311_2018_mini.csv": 0.99,  # 0.9995
        },
    ),
    CitySpec(
        # The only Chicago boundaries we have are neighbourhoods (property "name"), so they fill
        # `district` here; the one request at (0, 0) has only its ward ("5") from the export,
        # which names no area of that layer: no district, flagged unknown_district (issue 11).
        "chicago", "Chicago", "America/Chicago", "open311",
        "open311/chicago_neighborhoods_clickthathood.geojson", "name",
        ("open311/chicago_open311_requests_2012-12-01_srtracker.json",
         "open311/chicago_open311_request_single_srtracker.json"),  # the second: one of the 50
        {"chicago_open311_requests_2012-12-01_srtracker.json": 0.97},  # 42 of 43
    ),
)
CITY_BY_KEY = {c.key: c for c in CITIES}


# --- helpers --------------------------------------------------------------------------------


def civicstat(*args: object) -> subprocess.CompletedProcess:
    """Run the installed `civicstat` command, as a user would."""
    assert CIVICSTAT.is_file(), f"{CIVICSTAT} not found: install the project (pip install -e .)"
    return subprocess.run([str(CIVICSTAT), *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=300)


def ingest_json(root: Path, files: list[Path], source: str) -> dict:
    """`civicstat ingest ROOT FILES --source SOURCE --json`: its one JSON object."""
    done = civicstat("ingest", root, *files, "--source", source, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])


def store_query(root: Path, sql: str) -> list[tuple]:
    """SQL's rows from the city's store.duckdb, opened read-only."""
    con = duckdb.connect(str(root / "store.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def open311_expected(path: Path, timezone: str) -> tuple[int, int, datetime | None, datetime | None]:
    """(records, records without an id, earliest and latest local created time of the others),
    read with the json module."""
    records = json.loads(path.read_text(encoding="utf-8"))
    records = records if isinstance(records, list) else [records]
    zone = ZoneInfo(timezone)
    times = [datetime.fromisoformat(r["requested_datetime"]).astimezone(zone).replace(tzinfo=None)
             for r in records if r.get("service_request_id")]
    return len(records), len(records) - len(times), min(times, default=None), \
        max(times, default=None)


def expected(path: Path, spec: CitySpec) -> tuple[int, int, datetime | None, datetime | None]:
    """(records, rejected, earliest, latest created) of one file, without the adapter."""
    if spec.source == "open311":
        return open311_expected(path, spec.timezone)
    export = EXPORT_BY_NAME[path.name]
    records, _, earliest, latest = _independent(path, export)
    assert records == export.records  # the count test_real_exports pins
    return records, 0, earliest, latest  # every record there is usable


def assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2, nothing on stdout, one `civicstat: error:` line naming the problem."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("civicstat: error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@dataclass
class Loaded:
    """A city built by `civicstat init` and loaded twice with `civicstat ingest --json`."""

    spec: CitySpec
    root: Path
    files: list[Path]
    first: dict
    second: dict


@pytest.fixture(scope="module")
def loaded(shared_data, tmp_path_factory):
    """loaded(key) -> Loaded: each city built once for the whole module, on first use."""
    cache: dict[str, Loaded] = {}

    def load(key: str) -> Loaded:
        if key not in cache:
            spec = CITY_BY_KEY[key]
            root = tmp_path_factory.mktemp("cities") / key
            done = civicstat("init", root, "--name", spec.name, "--timezone", spec.timezone,
                             "--boundaries", shared_data / spec.boundary,
                             "--district-key", spec.district_key)
            assert done.returncode == 0, done.stderr
            files = [shared_data / f for f in spec.files]
            first = ingest_json(root, files, spec.source)
            second = ingest_json(root, files, spec.source)
            cache[key] = Loaded(spec, root, files, first, second)
        return cache[key]

    return load


# --- every city -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [c.key for c in CITIES])
def test_city_loads_every_record(loaded, key, record_property):
    city = loaded(key)
    spec, first, second = city.spec, city.first, city.second
    per_file = [expected(path, spec) for path in city.files]
    records = sum(p[0] for p in per_file)
    rejected = sum(p[1] for p in per_file)

    assert first["read"] == records
    assert first["read"] == (first["inserted"] + first["updated"] + first["unchanged"]
                             + first["rejected"])
    assert first["rejected"] == rejected

    # the same files again: nothing inserted or updated, the same records rejected
    assert second == {**first, "inserted": 0, "updated": 0,
                      "unchanged": first["read"] - first["rejected"],
                      "changed": False, "published": None}  # a replay records and publishes nothing

    earliest = min(p[2] for p in per_file if p[2])
    latest = max(p[3] for p in per_file if p[3])
    [(stored_min, stored_max, stored, with_district)] = store_query(
        city.root, "select min(created_at), max(created_at), count(*), count(district) "
                   "from requests")
    assert (stored_min, stored_max) == (earliest, latest)
    assert stored == first["inserted"]  # the store started empty

    share = with_district / stored
    by_file = {source.split(":", 1)[1]: n_district / n for source, n, n_district in store_query(
        city.root, "select source, count(*), count(district) from requests group by source")}
    print(f"{spec.name}: read {first['read']:,}, rejected {first['rejected']:,}, stored "
          f"{stored:,}, created {stored_min} .. {stored_max}, with a district {share:.1%} ("
          + ", ".join(f"{name} {s:.1%}" for name, s in sorted(by_file.items())) + ")")
    record_property("read", first["read"])
    record_property("rejected", first["rejected"])
    record_property("created_range", f"{stored_min} .. {stored_max}")
    record_property("district_share", round(share, 4))
    record_property("district_share_by_file", {k: round(v, 4) for k, v in by_file.items()})
    assert set(by_file) == set(spec.floors)
    for name, floor in spec.floors.items():
        assert by_file[name] >= floor, (name, by_file[name])


# --- NYC: districts against an independent spatial join -------------------------------------


def test_nyc_district_is_the_council_polygon_containing_the_point(loaded, record_property):
    """Rows whose point lies inside a council district (geopandas.sjoin, "within") carry that
    district: at least 99% of them."""
    city = loaded("nyc")
    rows = store_query(city.root, "select request_id, lat, lon, district from requests "
                                  "where lat is not null and lon is not null")
    points = gpd.GeoDataFrame(
        {"request_id": [r[0] for r in rows], "district": [r[3] for r in rows]},
        geometry=gpd.points_from_xy([r[2] for r in rows], [r[1] for r in rows]), crs="EPSG:4326")
    council = gpd.read_file(city.root / "boundaries" / "city_council.geojson").to_crs("EPSG:4326")
    joined = gpd.sjoin(points, council[["CounDist", "geometry"]], predicate="within")
    joined["agrees"] = joined["district"] == joined["CounDist"].astype(int).astype(str)
    agrees = joined.groupby("request_id")["agrees"].any()  # overlapping polygons: either one
    share = agrees.mean()
    print(f"NYC: {len(agrees):,} of {len(points):,} located rows lie inside a council district; "
          f"{agrees.sum():,} ({share:.2%}) carry its number")
    record_property("inside", len(agrees))
    record_property("agree_share", round(float(share), 4))
    assert len(agrees) >= 0.95 * len(points)
    assert share >= NYC_SJOIN_FLOOR


# --- the dashboard on NYC -------------------------------------------------------------------


def test_overview_shows_new_york(loaded, monkeypatch):
    """The Overview served on the NYC folder names New York (not the demo city), and its figures
    for the default period (the 90 days before the as-of time) equal the reference's."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from civicstat.core.figures import duration
    from civicstat.core.filters import resolve_period
    from civicstat.serve.snapshots import connect_snapshot, read_info

    from metrics_reference import figures, load, select
    from test_support import APP, metric_values

    city = loaded("nyc")
    monkeypatch.setenv("CIVICSTAT_CITY", str(city.root))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    texts = [e.value for e in [*app.title, *app.caption]]
    assert any("New York" in t for t in texts), texts
    assert not any("Riverton" in t for t in texts), texts

    snapshot = city.root / "build" / "public.duckdb"
    with connect_snapshot(snapshot) as con:
        as_of = read_info(con)["as_of"].to_pydatetime()
    period = resolve_period("90d", as_of)
    reference = figures(select(load(snapshot)), period.start, period.end, as_of)
    shown = metric_values(app)
    assert reference["count_requests"] > 0
    assert shown["Requests received"] == f"{reference['count_requests']:,}"
    assert shown["Open at end of period"] == f"{reference['count_open_at_end']:,}"
    # NYC closes many requests within the hour: its median must not read "0.0" days
    median = reference["median_days_to_close"]
    assert median > 0
    assert shown["Median days to close"] == duration(median) != "0.0 days", (median, shown)


# --- unusable invocations: exit 2, one line -------------------------------------------------


@pytest.mark.parametrize(("files", "source", "needles"), [
    (["nyc/311/nyc311_2022-05_fedhere.csv"], "gotham", ["unknown source format 'gotham'", "nyc"]),
    (["nyc/311/nyc311_2022-05_fedhere.csv", "nyc/311/missing.csv"], "nyc",
     ["file not found", "missing.csv"]),
], ids=["unknown-source", "missing-file"])
def test_unusable_ingest_exits_2_with_one_line(loaded, shared_data, files, source, needles):
    """Refused on one line, before the store is touched."""
    city = loaded("nyc")
    runs = store_query(city.root, "select count(*) from ingest_runs")
    done = civicstat("ingest", city.root, *[shared_data / f for f in files], "--source", source)
    assert_one_line_error(done, *needles)
    assert store_query(city.root, "select count(*) from ingest_runs") == runs


def test_state_plane_boundary_needs_crs(shared_data, tmp_path):
    """Analyze Boston's neighbourhoods are Massachusetts State Plane feet with no CRS: `init`
    refuses and says how to pass --crs; with --crs EPSG:2249 it creates the city."""
    base = ["init", tmp_path / "boston", "--name", "Boston", "--timezone", "America/New_York",
            "--boundaries",
            shared_data / "boston" / "boundaries" / "boston_neighborhoods_analyzeboston.geojson",
            "--district-key", "Name"]
    assert_one_line_error(civicstat(*base), "declares no coordinate system", "--crs")
    assert not (tmp_path / "boston" / "city.toml").exists()
    done = civicstat(*base, "--crs", "EPSG:2249")
    assert done.returncode == 0, done.stderr
    assert "26 districts" in done.stdout
