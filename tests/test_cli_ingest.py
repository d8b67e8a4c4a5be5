"""`civicstat init / ingest / pull / quarantine`: output, exit codes and one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from civicstat.cli.main import main
from civicstat.core.city import load_city
from civicstat.core.geo import Areas

from citykit import grid_geojson, make_city, stub_publish

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapping"
MAPPING = FIXTURES / "springfield.toml"
CSV = FIXTURES / "springfield.csv"


@pytest.fixture(autouse=True)
def published(monkeypatch):
    return stub_publish(monkeypatch)


def cli(capsys, *args) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("civicstat: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- init -----------------------------------------------------------------------------------


def test_init_creates_a_city_folder(tmp_path, capsys):
    source = tmp_path / "council.geojson"
    source.write_text(json.dumps(grid_geojson()))
    status, out, _ = cli(capsys, "init", tmp_path / "town", "--name", "Grid Town", "--timezone",
                         "America/New_York", "--boundaries", source, "--district-key",
                         "district", "--population-key", "population")
    assert status == 0 and "4 districts" in out
    city = load_city(tmp_path / "town")
    assert (city.name, city.timezone) == ("Grid Town", "America/New_York")
    [layer] = city.boundaries
    assert layer.file == city.root / "boundaries" / "council.geojson" and layer.file.is_file()
    assert (layer.layer, layer.key, layer.population, layer.crs) == (
        "district", "district", "population", None)
    again = cli(capsys, "init", tmp_path / "town", "--name", "X", "--timezone", "UTC",
                "--boundaries", source, "--district-key", "district")
    assert again[0] == 2
    assert_one_line_error(again[2], "already a city folder", "--force")


@pytest.mark.parametrize(("extra", "needles"), [
    (["--timezone", "Mars/Olympus"], ["unknown time zone 'Mars/Olympus'"]),
    (["--boundaries", "nope.geojson"], ["boundary file not found"]),
    (["--district-key", "Ward"], ["no property 'Ward'", "district, population"]),
    (["--crs", "EPSG:99999999"], ["unknown coordinate system"]),
])
def test_init_refuses_bad_input(tmp_path, capsys, extra, needles):
    source = tmp_path / "council.geojson"
    source.write_text(json.dumps(grid_geojson()))
    args = {"--name": "T", "--timezone": "UTC", "--boundaries": str(source),
            "--district-key": "district"}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = value
    status, _, err = cli(capsys, "init", tmp_path / "town",
                         *[x for pair in args.items() for x in pair])
    assert status == 2
    assert_one_line_error(err, *needles)
    assert not (tmp_path / "town" / "city.toml").exists()


@pytest.mark.shared
def test_init_refuses_state_plane_without_crs_and_accepts_it_with(tmp_path, capsys, shared_data):
    precincts = shared_data / "boston" / "boundaries" / "boston_precincts_2020.geojson"
    base = ["init", tmp_path / "boston", "--name", "Boston", "--timezone", "America/New_York",
            "--boundaries", precincts, "--district-key", "WARD_PRECINCT"]
    status, _, err = cli(capsys, *base)
    assert status == 2
    assert_one_line_error(err, "declares no coordinate system", "not longitude/latitude",
                          "--crs")
    assert not (tmp_path / "boston" / "city.toml").exists()

    status, out, _ = cli(capsys, *base, "--crs", "EPSG:2249")
    assert status == 0 and "255 districts" in out
    city = load_city(tmp_path / "boston")
    assert city.boundaries[0].crs == "EPSG:2249"
    district, _ = Areas.from_city(city).assign_areas([42.3601], [-71.0589])
    assert district[0] is not None and district[0].startswith("03")  # ward 3


# --- ingest ---------------------------------------------------------------------------------


def test_ingest_json_prints_one_object_and_replays_unchanged(tmp_path, capsys, published):
    city = make_city(tmp_path)
    status, out, err = cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING, "--json")
    assert status == 0 and err == ""
    first = json.loads(out)
    assert list(first) == ["read", "inserted", "updated", "unchanged", "rejected",
                           "rejected_by_reason", "duplicate_ids", "changed", "published"]
    assert first == {"read": 7, "inserted": 5, "updated": 0, "unchanged": 0, "rejected": 2,
                     "rejected_by_reason": {"no_created_at": 1, "no_id": 1},
                     "duplicate_ids": 0, "changed": True, "published": "stub-1"}
    assert len(out.strip().splitlines()) == 1
    status, out, _ = cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING, "--json")
    # a replay changes nothing: no run recorded, nothing republished (issue 16, item 8)
    assert json.loads(out) == {**first, "inserted": 0, "unchanged": 5, "changed": False,
                               "published": None}
    assert len(published) == 1
    status, out, _ = cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING)
    assert status == 0 and "Nothing changed: no ingest run recorded" in out


def test_ingest_human_summary(tmp_path, capsys):
    city = make_city(tmp_path)
    status, out, _ = cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING)
    assert status == 0
    assert "Read 7 records" in out and "inserted 5" in out and "rejected 2" in out
    assert "no_created_at 1, no_id 1" in out and "civicstat quarantine" in out
    assert "unknown_status 1" in out
    assert "District assigned to 80.0%" in out


@pytest.mark.parametrize(("args", "needles"), [
    (["--source", "gotham"], ["unknown source format 'gotham'", "nyc", "--mapping"]),
    (["--mapping", "missing.toml"], ["mapping file not found"]),
])
def test_ingest_unusable_format(tmp_path, capsys, args, needles):
    city = make_city(tmp_path)
    status, _, err = cli(capsys, "ingest", city.root, CSV, *args)
    assert status == 2
    assert_one_line_error(err, *needles)


def test_ingest_file_not_found(tmp_path, capsys):
    city = make_city(tmp_path)
    status, _, err = cli(capsys, "ingest", city.root, tmp_path / "nope.csv", "--mapping", MAPPING)
    assert status == 2
    assert_one_line_error(err, "file not found", "nope.csv")


def test_ingest_missing_required_columns_are_named(tmp_path, capsys):
    city = make_city(tmp_path)
    path = tmp_path / "other.csv"
    path.write_text("Ticket,Opened On\n1,2024-03-01\n", encoding="utf-8")
    status, _, err = cli(capsys, "ingest", city.root, path, "--mapping", MAPPING)
    assert status == 2
    assert_one_line_error(err, "'Case Number' (request_id)", "'Date Opened' (created_at)")


def test_ingest_not_a_city(tmp_path, capsys):
    status, _, err = cli(capsys, "ingest", tmp_path, CSV, "--mapping", MAPPING)
    assert status == 2
    assert_one_line_error(err, "not a city folder")


def test_ingest_with_boundary_of_unknown_crs(tmp_path, capsys):
    city = make_city(tmp_path)
    from pyproj import Transformer

    to = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    data = grid_geojson()
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [list(to.transform(x, y)) for x, y in ring]
    (city.root / "boundaries" / "districts.geojson").write_text(json.dumps(data))
    status, _, err = cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING)
    assert status == 2
    assert_one_line_error(err, "declares no coordinate system", "--crs")
    assert not city.store_path.exists()  # refused before the store was opened


def test_exit_2_from_the_real_command(tmp_path):
    city = make_city(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "civicstat.cli.main", "ingest", str(city.root), str(CSV),
         "--source", "gotham"], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "unknown source format")
    assert done.stdout == ""


# --- quarantine -----------------------------------------------------------------------------


def test_quarantine_export(tmp_path, capsys):
    city = make_city(tmp_path)
    cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING, "--json")
    out_file = tmp_path / "out" / "rejected.csv"
    status, out, _ = cli(capsys, "quarantine", city.root, "--out", out_file)
    assert status == 0 and "2 rejected records" in out
    with out_file.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["reason"]) for r in rows] == [("8", "no_id"), ("9", "no_created_at")]
    assert rows[0]["file"] == str(CSV) and rows[0]["run_id"] == "1"
    assert "sometime in March" in rows[1]["raw"]
    status, out, _ = cli(capsys, "quarantine", city.root, "--out", out_file, "--run", "2")
    assert status == 0 and "0 rejected records" in out


def test_quarantine_before_any_ingest(tmp_path, capsys):
    city = make_city(tmp_path)
    status, _, err = cli(capsys, "quarantine", city.root, "--out", tmp_path / "q.csv")
    assert status == 2
    assert_one_line_error(err, "no store yet")


@pytest.mark.parametrize(("geometry", "needles"), [
    ({"type": "Point", "coordinates": [-75.0, 40.0]}, ["Point features, not areas"]),
    ({"type": "LineString", "coordinates": [[-75.0, 40.0], [-74.9, 40.1]]},
     ["LineString features, not areas"]),
    (None, ["1 feature(s) have no geometry", "'9'"]),
])
def test_init_refuses_a_boundary_layer_that_is_not_areas(tmp_path, capsys, geometry, needles):
    """Points, lines or a feature without geometry beside real polygons: exit 2, one line, no
    city folder (such a layer used to be accepted and crash the public pages after an ingest)."""
    layer = grid_geojson()
    layer["features"].append({"type": "Feature", "properties": {"district": "9"},
                              "geometry": geometry})
    source = tmp_path / "council.geojson"
    source.write_text(json.dumps(layer))
    status, _, err = cli(capsys, "init", tmp_path / "town", "--name", "T", "--timezone", "UTC",
                         "--boundaries", source, "--district-key", "district")
    assert status == 2
    assert_one_line_error(err, *needles)
    assert not (tmp_path / "town" / "city.toml").exists()


def test_commands_wait_their_turn_while_an_ingest_holds_the_store(tmp_path, capsys, monkeypatch):
    """publish, quarantine and a second ingest while another process writes the store: exit 2
    with one line saying so, never a traceback (DuckDB lets one process write a file)."""
    monkeypatch.undo()  # the real publish
    city = make_city(tmp_path)
    assert cli(capsys, "ingest", city.root, CSV, "--mapping", MAPPING)[0] == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(city.store_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["publish", city.root], ["quarantine", city.root, "--out", tmp_path / "q.csv"],
                     ["ingest", city.root, CSV, "--mapping", MAPPING]):
            status, _, err = cli(capsys, *args)
            assert status == 2, args
            assert_one_line_error(err, "another ingest is using it")
    finally:
        holder.kill()
        holder.wait()
