"""Issue 11, items 3-6: the rules that protect the numbers when an export is unlike the ones
CivicStat was written for, a city with no boundary file, the failure modes, and the as-of date.

Fixtures are in the shape of real exports (tests/fixtures/mapping): State Plane feet, no id
column, no status, a date and its time in two columns, a messy district column, a SeeClickFix
JSON document. Snapshots are really published here (small cities: a second or two each).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from civicstat.cli.main import main
from civicstat.core.city import load_city
from civicstat.core.filters import resolve_period
from civicstat.ingest.pipeline import ingest_files
from civicstat.ingest.sources.mapping import load_adapter
from civicstat.serve.snapshots import connect_snapshot, read_info

from citykit import CENTRES, FrameAdapter, make_city, placeholder_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapping"
STREETS_CSV, STREETS = FIXTURES / "streets_stateplane.csv", FIXTURES / "streets_stateplane.toml"
SCF_JSON = FIXTURES / "seeclickfix_issues.json"
C1 = CENTRES["1"]


def cli(capsys, *args) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("civicstat: error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def identity(counts: dict) -> bool:
    return counts["read"] == (counts["inserted"] + counts["updated"] + counts["unchanged"]
                              + counts["rejected"])


def runs(city) -> int:
    if not city.store_path.exists():
        return 0
    return query(city.store_path, "select count(*) from ingest_runs")[0][0]


# --- item 3: rules that protect the numbers -------------------------------------------------


def test_feet_in_lat_lon_columns_stop_the_load_naming_the_crs_key(tmp_path, capsys):
    """State Plane feet mapped as lat/lon: exit 2 naming `[coordinates] crs`, nothing stored and
    no run recorded; declared, the same columns load as degrees."""
    city = make_city(tmp_path)
    export = tmp_path / "feet.csv"
    export.write_text("Case,Opened,Y_COORD,X_COORD\nF-1,2024-03-01 09:00,-42500.2,998249.2\n"
                      "F-2,2024-03-01 10:00,-6036.1,1026185.2\nF-3,2024-03-01 11:00,,\n",
                      encoding="utf-8")
    mapping = tmp_path / "feet.toml"
    text = '[columns]\nrequest_id = "Case"\ncreated_at = "Opened"\nlat = "Y_COORD"\n' \
           'lon = "X_COORD"\n'
    mapping.write_text(text, encoding="utf-8")
    status, out, err = cli(capsys, "ingest", city.root, export, "--mapping", mapping, "--json")
    assert status == 2 and out == ""
    one_line_error(err, "[coordinates] crs", "not degrees")
    assert runs(city) == 0
    assert not city.public_path.exists()

    mapping.write_text(text + '[coordinates]\ncrs = "EPSG:2263"\n', encoding="utf-8")
    status, out, _ = cli(capsys, "ingest", city.root, export, "--mapping", mapping, "--json")
    assert status == 0 and json.loads(out)["inserted"] == 3
    stored = dict((r[0], r[1:]) for r in query(
        city.store_path, "select request_id, lat, lon, district from requests"))
    assert stored["F-1"][0] == pytest.approx(C1[0], abs=1e-5)
    assert stored["F-1"][1] == pytest.approx(C1[1], abs=1e-5)
    assert (stored["F-1"][2], stored["F-2"][2]) == ("1", "4")


def test_out_of_range_and_outside_points_never_reach_public(tmp_path):
    """A stray lat of 999 is flagged and not stored as a coordinate; public.duckdb holds only
    points inside the city's districts."""
    city = make_city(tmp_path)
    records = [{"request_id": str(i), "created_at": "2024-03-01 09:00", "lat": C1[0],
                "lon": C1[1]} for i in range(5)]
    records += [{"request_id": "far", "created_at": "2024-03-01 09:00", "lat": 999.0,
                 "lon": -73.9},
                {"request_id": "mercator", "created_at": "2024-03-01 09:00", "lat": 40.1,
                 "lon": -8230000.0}]
    summary = ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter(records))
    assert summary.flagged == {"placeholder_coordinates": 2}
    stored = dict((r[0], r[1:]) for r in query(
        city.store_path, "select request_id, lat, lon from requests"))
    assert stored["far"] == (None, None) and stored["mercator"] == (None, None)
    [(count, bad)] = query(city.public_path, """
        select count(lat), count(*) filter (where abs(lat) > 90 or abs(lon) > 180
            or lat not between 40.0 and 40.2 or lon not between -74.0 and -73.8)
        from requests""")
    assert (count, bad) == (5, 0)


def test_source_district_counts_only_when_it_names_an_area(tmp_path):
    """"Ward 03" is district 3; "Undetermined" and "07" (no such district) give no district and
    the flag unknown_district, counted on the data-quality page; the summary's districts count
    only real areas."""
    city = make_city(tmp_path)
    summary = ingest_files(city, [STREETS_CSV], load_adapter(STREETS))
    rows = query(city.store_path, "select description, district, flags from requests")
    found = {description: (district, flags) for description, district, flags in rows}
    assert found["Loud music"] == ("3", ["no_coordinates"])  # "Ward 03", no coordinates
    assert found["Party"] == (None, ["no_coordinates", "unknown_district"])  # "Undetermined"
    assert found["Sinkhole"] == (None, ["no_coordinates", "unknown_district"])  # 0/0 feet, "07"
    assert found["Tag on wall"] == ("4", [])  # its point decides, not "<22-Feb-2014 ...>Ward 7"
    assert summary.with_district == 4  # of 6: the two Deep holes, Tag on wall, Loud music
    assert summary.flagged["unknown_district"] == 2
    [(flagged,)] = query(city.internal_path, "select sum(count_flagged) from flags_by_month "
                                             "where flag = 'unknown_district'")
    assert flagged == 2


def test_no_status_and_no_closed_time_count_for_volume_not_backlog(tmp_path):
    city = make_city(tmp_path)
    ingest_files(city, [STREETS_CSV], load_adapter(STREETS))
    assert query(city.store_path, "select count(*), count(status) from requests") == [(6, 0)]
    for path in (city.internal_path, city.public_path):
        [(open_now,)] = query(path, "select coalesce(sum(count_open), 0) from open_now")
        [(created,)] = query(path, "select sum(count_created) from daily_flows")
        assert (open_now, created) == (0, 6)
        [(overdue, on_time)] = query(path, "select count_if(is_overdue), count(is_on_time) "
                                           "from requests")
        assert (overdue, on_time) == (0, 0)
        with connect_snapshot(path) as con:
            info = read_info(con)
        assert info["count_without_status"] == 6
        assert "does not record status or closed times" in info["data_note"]


def test_ids_repeating_in_a_file_are_reported(tmp_path, capsys):
    city = make_city(tmp_path)
    export = tmp_path / "repeats.csv"
    export.write_text("id,opened\nA,2024-03-01 09:00\nA,2024-03-01 09:00\nB,2024-03-01 10:00\n"
                      "A,2024-03-02 09:00\n", encoding="utf-8")
    mapping = tmp_path / "repeats.toml"
    mapping.write_text('[columns]\nrequest_id = "id"\ncreated_at = "opened"\n', encoding="utf-8")
    status, out, _ = cli(capsys, "ingest", city.root, export, "--mapping", mapping, "--json")
    first = json.loads(out)
    assert status == 0 and first["duplicate_ids"] == 2 and first["inserted"] == 2
    assert identity(first)
    status, out, _ = cli(capsys, "ingest", city.root, export, "--mapping", mapping, "--json")
    again = json.loads(out)
    assert again["unchanged"] == again["read"] == 4 and again["duplicate_ids"] == 2
    status, out, _ = cli(capsys, "ingest", city.root, export, "--mapping", mapping)
    assert "2 records repeat an id" in out


# --- item 5: failure modes ------------------------------------------------------------------


def test_a_load_where_every_record_is_rejected(tmp_path, capsys):
    """Exit 0, the JSON summary, a valid empty dashboard; the replay is all rejected again."""
    from streamlit.testing.v1 import AppTest

    from test_support import APP

    city = make_city(tmp_path)
    export = tmp_path / "hopeless.csv"
    export.write_text("id,opened\n,2024-03-01 09:00\nX-2,sometime\n", encoding="utf-8")
    mapping = tmp_path / "hopeless.toml"
    mapping.write_text('[columns]\nrequest_id = "id"\ncreated_at = "opened"\n', encoding="utf-8")
    status, out, err = cli(capsys, "ingest", city.root, export, "--mapping", mapping, "--json")
    assert status == 0 and err == ""
    counts = json.loads(out)
    assert (counts["read"], counts["rejected"], counts["inserted"]) == (2, 2, 0)
    assert identity(counts) and counts["published"]
    again = json.loads(cli(capsys, "ingest", city.root, export, "--mapping", mapping,
                           "--json")[1])
    assert identity(again) and again["rejected"] == 2 and not again["changed"]

    status, out, _ = cli(capsys, "publish", city.root)
    assert status == 0 and len(out.strip().splitlines()) == 1
    assert "no requests loaded yet" in out

    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    import os

    os.environ["CIVICSTAT_CITY"] = str(city.root)
    try:
        app = AppTest.from_file(str(APP), default_timeout=60).run()
    finally:
        del os.environ["CIVICSTAT_CITY"]
        st.cache_data.clear()
        st.cache_resource.clear()
    assert not app.exception
    assert any("No requests loaded yet" in e.value for e in app.info)


def test_publish_of_a_city_with_no_data_says_so_in_one_line(tmp_path, capsys):
    city = make_city(tmp_path)
    status, out, err = cli(capsys, "publish", city.root)
    assert status == 2 and out == ""
    one_line_error(err, "no store yet")


@pytest.mark.parametrize("document", [
    SCF_JSON.read_text(encoding="utf-8"),
    json.dumps([{"unique_key": "1", "created_date": "2024-03-01T09:00:00.000"}]),
], ids=["seeclickfix", "socrata-records"])
def test_open311_refuses_json_that_is_not_georeport(tmp_path, capsys, document):
    city = make_city(tmp_path)
    path = tmp_path / "not-open311.json"
    path.write_text(document, encoding="utf-8")
    status, out, err = cli(capsys, "ingest", city.root, path, "--source", "open311", "--json")
    assert status == 2 and out == ""
    one_line_error(err, "not a GeoReport v2 requests response")
    assert runs(city) == 0


# --- item 6: the as-of date -----------------------------------------------------------------


def late_closures(city, tmp_path):
    """Twenty requests made in March 2014, one of them closed ten years later."""
    records = [{"request_id": str(i), "created_at": f"2014-03-{i + 1:02d} 09:00",
                "status": "open", "lat": C1[0], "lon": C1[1]} for i in range(20)]
    records[0] = {**records[0], "status": "closed", "closed_at": "2024-05-01 12:00"}
    return ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter(records))


def test_late_closures_do_not_empty_the_default_period(tmp_path):
    city = make_city(tmp_path)
    late_closures(city, tmp_path)
    with connect_snapshot(city.public_path) as con:
        info = read_info(con)
    as_of = info["as_of"].to_pydatetime()
    assert as_of == datetime(2014, 3, 20, 9, 0) and info["as_of_basis"] == "last_request"
    assert "The newest request was made on 20 March 2014" in info["data_note"]
    assert "01 May 2024" in info["data_note"]
    period = resolve_period("90d", as_of)
    [(created,)] = query(city.public_path, f"""
        select sum(count_created) from daily_flows
        where day >= '{period.start:%Y-%m-%d}' and day < '{period.end:%Y-%m-%d}'""")  # noqa: S608
    assert created == 20


def test_as_of_in_city_toml_overrides(tmp_path):
    city = make_city(tmp_path)
    toml = city.root / "city.toml"
    toml.write_text("as_of = 2014-06-30\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    city = load_city(city.root)
    late_closures(city, tmp_path)
    with connect_snapshot(city.public_path) as con:
        info = read_info(con)
    assert info["as_of"].to_pydatetime() == datetime(2014, 6, 30, 23, 59, 59)
    assert info["as_of_basis"] == "city.toml"
    assert "set in the city's configuration" in info["data_note"]


def test_the_page_says_why_the_period_ends_early(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from test_support import APP

    city = make_city(tmp_path)
    late_closures(city, tmp_path)
    monkeypatch.setenv("CIVICSTAT_CITY", str(city.root))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    captions = [e.value for e in app.caption]
    assert any("The newest request was made on 20 March 2014" in c for c in captions), captions


# --- item 4: a city without a boundary file -------------------------------------------------


@pytest.fixture(scope="module")
def unbounded_city(tmp_path_factory):
    """`civicstat init` with no --boundaries, then the State Plane export loaded (published)."""
    root = tmp_path_factory.mktemp("unbounded") / "town"
    assert main(["init", str(root), "--name", "Boundless", "--timezone", "America/New_York"]) == 0
    city = load_city(root)
    assert city.boundaries == ()
    summary = ingest_files(city, [STREETS_CSV], load_adapter(STREETS))
    return city, summary


def test_init_without_boundaries_takes_districts_from_the_export(unbounded_city):
    city, summary = unbounded_city
    rows = query(city.store_path, "select district, count(*), list(flags) from requests "
                                  "group by all order by 1")
    # as the export names them (after the mapping's "Ward 08" -> "8"); no flag: no layer to miss
    assert [(d, n) for d, n, _ in rows] == [
        ("1", 2), ("3", 1), ("7", 1), ("<22-Feb-2014 10:31:22>Ward 7", 1), ("Undetermined", 1)]
    assert all(flags == [] or "unknown_district" not in flags
               for _, _, lists in rows for flags in lists)
    assert summary.with_district == 6
    assert query(city.public_path, "select count(*), count(geometry_json) from districts") == [
        (5, 0)]


@pytest.mark.parametrize("page", ["public/map.py", "public/overview.py", "public/districts.py"])
def test_district_tables_briefing_and_maps_work_without_shapes(unbounded_city, monkeypatch, page):
    from test_support import run_public_page

    city, _ = unbounded_city
    monkeypatch.setenv("CIVICSTAT_CITY", str(city.root))
    app = run_public_page(page, period="Custom dates", **{"from": "2024-03-01", "to": "2024-03-31"},
                          district="1")
    text = " ".join(e.value for e in [*app.info, *app.markdown, *app.caption, *app.subheader])
    if page == "public/districts.py":
        assert any(h.value.startswith("1") for h in app.header), [h.value for h in app.header]
        assert app.metric, "the briefing's figures"
    else:
        assert "no district boundary file" in text, text
        assert app.dataframe, "the district table is shown"
