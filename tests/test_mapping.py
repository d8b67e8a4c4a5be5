"""`--mapping FILE.toml`: a CSV we have no adapter for, loaded by a mapping file alone."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from civicstat.core.city import load_city
from civicstat.ingest.pipeline import ingest_files
from civicstat.ingest.sources.base import InputError
from civicstat.ingest.sources.mapping import load_adapter, load_mapping, map_records, parse_mapping

from citykit import CENTRES, make_city, stub_publish

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapping"
MAPPING = FIXTURES / "springfield.toml"
CSV = FIXTURES / "springfield.csv"  # cp1252, CRLF, a quoted field with a line break, float ZIPs
DOCS_EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "mapping-example.toml"


@pytest.fixture(autouse=True)
def _no_publish(monkeypatch):
    stub_publish(monkeypatch)


def ingest(tmp_path, path=CSV, mapping=MAPPING, **city):
    town = make_city(tmp_path, **city)
    summary = ingest_files(town, [path], load_adapter(mapping))
    con = duckdb.connect(str(town.store_path), read_only=True)
    try:
        cursor = con.execute("select * from requests order by request_id")
        names = [d[0] for d in cursor.description]
        stored = {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
        quarantined = con.execute("select line, reason, raw from quarantine order by line").fetchall()
    finally:
        con.close()
    return summary, stored, quarantined


def test_docs_example_is_the_tested_mapping():
    assert DOCS_EXAMPLE.read_text(encoding="utf-8") == MAPPING.read_text(encoding="utf-8")


def test_springfield_export_loads_by_mapping(tmp_path):
    summary, stored, quarantined = ingest(tmp_path)
    assert (summary.read, summary.inserted, summary.rejected) == (7, 5, 2)
    assert [(line, reason) for line, reason, _ in quarantined] == [
        (8, "no_id"), (9, "no_created_at")]  # physical lines: record 2 spans lines 3-4
    assert "sometime in March" in quarantined[1][2]

    one = stored["SPR-1001"]
    assert one["created_at"] == datetime(2024, 3, 1, 9, 30)
    assert one["closed_at"] == datetime(2024, 3, 2, 16, 15)
    assert one["due_at"] == datetime(2024, 3, 4, 9, 30)
    assert (one["status"], one["closure"], one["channel"]) == ("closed", "resolved", "phone")
    assert (one["department"], one["request_type"], one["category"]) == (
        "Public Works", "Pothole", "Streets")
    assert one["address"] == "12 Elm St, 02119"  # ZIP stored as a float
    assert one["description"] == "Deep pothole near the café"  # cp1252
    assert (one["district"], one["neighborhood"], one["source"]) == (
        "1", "West", "springfield:springfield.csv")

    two = stored["SPR-1002"]
    assert two["description"] == 'Bins not collected\r\nsince Monday, "again"'
    assert (two["status"], two["closed_at"], two["channel"]) == ("open", None, "web")

    three = stored["SPR-1003"]
    assert (three["closure"], three["channel"], three["district"]) == ("cancelled", "app", "3")
    assert three["flags"] == ["no_coordinates"]  # "Ward 3" from the source, read as "3"

    four = stored["SPR-1004"]
    assert (four["closure"], four["channel"], four["flags"]) == (
        "duplicate", "walk-in", ["placeholder_coordinates"])
    assert four["updated_at"] == datetime(2024, 3, 5, 8, 0)  # ISO with offset, second format

    five = stored["SPR-1005"]
    assert (five["status"], five["channel"]) == ("open", "other")
    assert five["flags"] == ["outside_city", "unknown_status"]


@pytest.mark.parametrize("variant", ["utf-8", "latin-1", "bare-cr", "lf"])
def test_encodings_and_line_endings(tmp_path, variant):
    text = CSV.read_bytes().decode("cp1252")
    if variant == "bare-cr":
        data = text.replace("\r\n", "\r").encode("cp1252")
    elif variant == "lf":
        data = text.replace("\r\n", "\n").encode("cp1252")
    else:
        data = text.encode(variant)
    path = tmp_path / f"springfield-{variant}.csv"
    path.write_bytes(data)
    summary, stored, quarantined = ingest(tmp_path, path)
    assert (summary.read, summary.inserted, summary.rejected) == (7, 5, 2)
    assert stored["SPR-1001"]["description"] == "Deep pothole near the café"
    assert stored["SPR-1002"]["description"].startswith("Bins not collected")
    assert stored["SPR-1002"]["description"].endswith('since Monday, "again"')
    assert [line for line, _, _ in quarantined] == [8, 9]


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_other_delimiters_are_detected(tmp_path, delimiter):
    """The same export written with semicolons (spreadsheets in many European locales), pipes or
    tabs loads exactly as the comma one: commas inside fields stay text."""
    rows = list(csv.reader(io.StringIO(CSV.read_bytes().decode("cp1252"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "springfield-delimited.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    summary, stored, quarantined = ingest(tmp_path, path)
    assert (summary.read, summary.inserted, summary.rejected) == (7, 5, 2)
    assert stored["SPR-1001"]["address"] == "12 Elm St, 02119"
    assert stored["SPR-1002"]["description"] == 'Bins not collected\r\nsince Monday, "again"'
    assert [line for line, _, _ in quarantined] == [8, 9]


def test_headerless_file_by_position_and_time_zone(tmp_path):
    summary, stored, _ = ingest(tmp_path, FIXTURES / "springfield_noheader.csv",
                                FIXTURES / "springfield_noheader.toml")
    assert (summary.read, summary.inserted) == (3, 3)
    assert stored["1001"]["created_at"] == datetime(2024, 1, 15, 9, 0)  # UTC-5 in winter
    assert stored["1002"]["created_at"] == datetime(2024, 6, 30, 23, 0)  # UTC-4 in summer
    assert stored["1001"]["status"] == "closed" and stored["1002"]["status"] == "open"
    assert stored["1001"]["district"] == "2"  # "Ward 02", no coordinates
    assert stored["1003"]["district"] is None


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("Case Number,Date Opened\n1,03/01/2024 09:30 AM\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'Date Closed' \(closed_at\)"):
        ingest(tmp_path, path)


@pytest.mark.parametrize(("toml", "message"), [
    ('[columns]\ncreated_at = "a"\n', "must name request_id"),
    ('[columns]\nrequest_id = "a"\ncreated_at = "b"\nward = "c"\n', "unknown field 'ward'"),
    ('[columns]\nrequest_id = "a"\ncreated_at = "b"\n[status]\nshut = ["x"]\n',
     "'shut' is not one of open, closed"),
    ('[file]\ndelimiter = ":"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "delimiter ':' is not supported"),
    ('[file]\nheader = false\n[columns]\nrequest_id = "a"\ncreated_at = 2\n',
     "column position"),
    ('[dates]\ntimezone = "Mars/Olympus"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "unknown time zone"),
    ("name = [", "not a readable TOML file"),
])
def test_bad_mappings_say_what_is_wrong(tmp_path, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_mapping(path)


def test_mapping_file_not_found(tmp_path):
    with pytest.raises(InputError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.toml")


def test_text_fields_may_join_columns(tmp_path):
    path = tmp_path / "joined.csv"
    path.write_text("id,opened,street,city\n1,2024-03-01 10:00,1 Main St,Springfield\n"
                    "2,2024-03-01 11:00,,Springfield\n", encoding="utf-8")
    mapping = tmp_path / "joined.toml"
    mapping.write_text('[columns]\nrequest_id = "id"\ncreated_at = "opened"\n'
                       'address = ["street", "city"]\n', encoding="utf-8")
    _, stored, _ = ingest(tmp_path, path, mapping)
    assert stored["1"]["address"] == "1 Main St, Springfield"
    assert stored["2"]["address"] == "Springfield"
    assert stored["1"]["created_at"] == datetime(2024, 3, 1, 10, 0)  # detected format


# --- issue 11, item 2: the extended mapping syntax ------------------------------------------

STREETS_CSV, STREETS = FIXTURES / "streets_stateplane.csv", FIXTURES / "streets_stateplane.toml"
SCF_JSON, SCF = FIXTURES / "seeclickfix_issues.json", FIXTURES / "seeclickfix_issues.toml"


def test_two_column_times_state_plane_feet_and_content_ids(tmp_path):
    """No id column, the date and its time of day in two columns, x/y in State Plane feet."""
    summary, stored, _ = ingest(tmp_path, STREETS_CSV, STREETS)
    assert (summary.read, summary.inserted, summary.rejected) == (6, 6, 0)
    rows = sorted(stored.values(), key=lambda r: (r["created_at"], r["description"]))
    assert [r["created_at"] for r in rows] == [
        datetime(2024, 3, 1, 9, 30), datetime(2024, 3, 1, 9, 30), datetime(2024, 3, 1, 14, 5),
        datetime(2024, 3, 2, 8, 0), datetime(2024, 3, 2, 23, 45), datetime(2024, 3, 3, 10, 0)]
    twins = [r for r in rows if r["description"] == "Deep hole"]
    assert len({r["request_id"] for r in twins}) == 2  # identical records stay distinct
    for row, centre in ((twins[0], CENTRES["1"]), (rows[2], CENTRES["4"])):
        assert row["lat"] == pytest.approx(centre[0], abs=1e-5)  # feet -> degrees
        assert row["lon"] == pytest.approx(centre[1], abs=1e-5)
    assert [r["district"] for r in twins] == ["1", "1"]
    assert rows[2]["district"] == "4"

    # a replay: the same ids, all unchanged
    town = load_city(tmp_path / "city")
    again = ingest_files(town, [STREETS_CSV], load_adapter(STREETS))
    assert (again.read, again.unchanged, again.inserted, again.updated) == (6, 6, 0, 0)


def test_seeclickfix_json_with_records_key_and_dotted_paths(tmp_path):
    summary, stored, _ = ingest(tmp_path, SCF_JSON, SCF)
    assert (summary.read, summary.inserted, summary.rejected) == (3, 3, 0)
    one, two, three = stored["9101"], stored["9102"], stored["9103"]
    assert (one["request_type"], one["department"]) == ("Pothole", "Public Works")
    assert (one["status"], one["closed_at"]) == ("closed", datetime(2024, 3, 2, 16, 15))
    assert one["created_at"] == datetime(2024, 3, 1, 9, 30)
    assert (one["district"], one["neighborhood"]) == ("1", "West")
    assert (two["status"], two["request_type"], two["district"]) == ("open", "Graffiti", "4")
    assert (three["status"], three["department"]) == ("closed", "Utilities")
    assert three["created_at"] == datetime(2024, 3, 10, 21, 5)  # -04:00 is the city's clock then


def test_epoch_seconds_and_milliseconds_are_utc(tmp_path):
    summary, stored, quarantined = ingest(tmp_path, FIXTURES / "epoch.csv",
                                          FIXTURES / "epoch.toml")
    assert (summary.read, summary.inserted, summary.rejected) == (3, 2, 1)
    assert stored["E-1"]["created_at"] == datetime(2024, 3, 1, 9, 30)  # 14:30 UTC, seconds
    assert stored["E-1"]["closed_at"] == datetime(2024, 3, 2, 9, 30)  # milliseconds
    assert stored["E-2"]["created_at"] == datetime(2024, 3, 1, 9, 30)
    assert [reason for _, reason, _ in quarantined] == ["no_created_at"]


def test_composite_id_columns(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("Case,Line,Opened\nC1,1,2024-03-01 10:00\nC1,2,2024-03-01 10:00\n"
                    "C2,1,2024-03-02 10:00\n", encoding="utf-8")
    mapping = tmp_path / "lines.toml"
    mapping.write_text('[id]\ncolumns = ["Case", "Line"]\n[columns]\ncreated_at = "Opened"\n',
                       encoding="utf-8")
    summary, stored, _ = ingest(tmp_path, path, mapping)
    assert summary.inserted == 3
    assert sorted(stored) == ["C1|1", "C1|2", "C2|1"]


def test_records_from_a_portal_map_like_a_file():
    """map_records: the public way for pulled records (lists of dicts) into canonical frames."""
    spec = load_mapping(SCF)
    records = json.loads(SCF_JSON.read_text(encoding="utf-8"))["issues"]
    frame = map_records(spec, records[:2], "America/New_York", "seeclickfix:page-1")
    assert list(frame["request_id"]) == ["9101", "9102"]
    assert list(frame["request_type"]) == ["Pothole", "Graffiti"]
    assert list(frame["status"]) == ["closed", "open"]
    assert frame["created_at"].iloc[0] == datetime(2024, 3, 1, 9, 30)
    assert list(frame["_line"]) == [1, 2]
    second = map_records(spec, [records[2], "not an object"], "America/New_York", "p2",
                         first_line=3)
    assert list(second["_line"]) == [3, 4]
    assert second["_reject"].iloc[1] == "unreadable record"
    with pytest.raises(InputError, match=r"'opened_on' \(created_at\)"):
        bad = parse_mapping({"columns": {"request_id": "id", "created_at": "opened_on"}})
        map_records(bad, records, "America/New_York", "x")


def test_content_ids_count_occurrences_across_pages():
    spec = parse_mapping({"id": {"generate": "content"},
                          "columns": {"created_at": "t", "request_type": "kind"}})
    record = {"t": "2024-03-01 10:00", "kind": "Noise"}
    seen = Counter()
    first = map_records(spec, [record], "UTC", "p", seen=seen)["request_id"].iloc[0]
    second = map_records(spec, [record], "UTC", "p", seen=seen)["request_id"].iloc[0]
    assert second == f"{first}-2"
    closed = map_records(spec, [{**record, "status": "closed"}], "UTC", "p")
    assert closed["request_id"].iloc[0] == first  # an unmapped change: the same request


@pytest.mark.parametrize(("toml", "message"), [
    ('[columns]\nrequest_id = "a"\ncreated_at = "b"\n[colums]\nx = 1\n',
     "unknown section or key 'colums'"),
    ('[file]\nrecord = "issues"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     r"unknown key 'record' in \[file\]"),
    ('[dates]\nformat_list = []\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     r"unknown key 'format_list' in \[dates\]"),
    ('timezone = "UTC"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "unknown section or key 'timezone'"),
    ('[columns]\nrequest_id = "a"\ncreated_at = "b"\nx = "X"\ny = "Y"\n',
     r"\[coordinates\] crs"),
    ('[coordinates]\ncrs = "EPSG:999999"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "not a coordinate system"),
    ('[id]\ngenerate = "content"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "keep one"),
    ('[id]\ngenerate = "random"\n[columns]\ncreated_at = "b"\n', 'generate must be "content"'),
    ('[file]\nformat = "xml"\n[columns]\nrequest_id = "a"\ncreated_at = "b"\n',
     "format 'xml'"),
    ('[columns]\nrequest_id = "a"\ncreated_at = "b"\nlat = ["c", "d"]\n', "takes one column"),
])
def test_extended_mappings_say_what_is_wrong(tmp_path, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_mapping(path)
