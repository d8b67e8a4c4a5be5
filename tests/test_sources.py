"""The city adapters on tiny hand-written fixtures (tests/fixtures/<format>/), one odd case at a time,
and the shared reading / parsing helpers they are built on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from civicstat.core.schema import CHANNELS, CLOSURES, COLUMN_NAMES
from civicstat.ingest.sources import parsing, reading
from civicstat.ingest.sources.base import LINE, RAW, REJECT, InputError
from civicstat.ingest.sources.reading import header_key, read_batches
from civicstat.ingest.sources.registry import get_adapter

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ZONES = {
    "nyc": "America/New_York",
    "boston": "America/New_York",
    "sf": "America/Los_Angeles",
    "chicago": "America/Chicago",
    "la": "America/Los_Angeles",
}
CITY_FIXTURES = sorted(
    (fmt, path.name) for fmt in ZONES for path in (FIXTURES / fmt).iterdir() if path.is_file()
)
EXTRA = {LINE, RAW, REJECT, "source_district", "source_neighborhood", "is_information_only"}


def read(fmt: str, name: str | Path, **kwargs) -> pd.DataFrame:
    path = name if isinstance(name, Path) else FIXTURES / fmt / name
    frames = list(get_adapter(fmt).read(path, ZONES[fmt], **kwargs))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def row(frame: pd.DataFrame, request_id: str) -> pd.Series:
    match = frame[frame["request_id"] == request_id]
    assert len(match) == 1, f"{request_id}: {len(match)} rows"
    return match.iloc[0]


# --- every fixture: the contract of sources.base ------------------------------------------


@pytest.mark.parametrize(("fmt", "name"), CITY_FIXTURES)
def test_frames_follow_the_adapter_contract(fmt, name):
    frame = read(fmt, name)
    assert len(frame) > 0
    assert set(frame.columns) <= set(COLUMN_NAMES) | EXTRA
    for column in ("created_at", "updated_at", "closed_at", "due_at"):
        if column in frame:
            assert frame[column].dtype.kind == "M" and frame[column].dt.tz is None
    for column in ("lat", "lon"):
        assert frame[column].dtype == np.float64
    assert frame[LINE].dtype == np.int64 and frame[LINE].is_monotonic_increasing
    assert set(frame["status"].dropna()) <= {"open", "closed", "Draft"}
    assert set(frame["closure"].dropna()) <= set(CLOSURES)
    assert frame.loc[frame["status"] == "open", "closure"].isna().all() or fmt == "chicago"
    if "channel" in frame:
        assert set(frame["channel"].dropna()) <= set(CHANNELS)
    assert (frame["source"] == f"{fmt}:{name}").all()
    usable = frame["request_id"].notna() & frame["created_at"].notna() & frame[REJECT].isna()
    assert frame.loc[usable, RAW].isna().all()  # _raw only where the record will be rejected
    assert frame.loc[~usable, RAW].notna().all()


@pytest.mark.parametrize(("fmt", "name"), CITY_FIXTURES)
@pytest.mark.parametrize("block_bytes", [1, 64, 700])
def test_small_blocks_read_the_same_records(fmt, name, block_bytes):
    """Cutting a file into blocks never splits or loses a record, nor shifts a line number."""
    whole = [b for b in read_batches(FIXTURES / fmt / name, layouts=get_adapter(fmt).layouts)]
    cut = [
        b for b in read_batches(
            FIXTURES / fmt / name, layouts=get_adapter(fmt).layouts, block_bytes=block_bytes
        )
    ]
    def records(batches) -> pd.DataFrame:  # JSON batches hold the fields their records have
        table = pa.concat_tables([b.table for b in batches], promote_options="default")
        return table.to_pandas().sort_index(axis=1)

    pd.testing.assert_frame_equal(records(cut), records(whole))
    assert np.concatenate([b.line for b in cut]).tolist() == np.concatenate(
        [b.line for b in whole]
    ).tolist()


def test_every_format_has_an_adapter_named_for_it():
    for fmt in ZONES:
        assert get_adapter(fmt).name == fmt


# --- NYC --------------------------------------------------------------------------------------


def test_nyc_portal_csv():
    frame = read("nyc", "portal.csv")
    assert len(frame) == 8  # every record, the broken one included
    first = row(frame, "41000001")
    assert first["created_at"] == pd.Timestamp("2019-04-18 21:55:45")  # 09:55:45 PM
    assert first["due_at"] == pd.Timestamp("2019-04-19 05:55:45")
    assert first["updated_at"] == pd.Timestamp("2019-04-18 23:10:00")
    assert (first["status"], first["closure"], first["channel"]) == ("closed", "resolved", "phone")
    assert first["department"] == "NYPD" and first["request_type"] == "Noise - Residential"
    assert first["address"] == "952 EAST 58 STREET, 11234"  # the ZIP was "11234.0"
    assert first["lat"] == pytest.approx(40.63186547963468)


def test_nyc_state_plane_coordinates_are_converted():
    second = row(read("nyc", "portal.csv"), "41000002")
    # X/Y 1002186, 247999 is where the SODA export puts 40.84735682, -73.93517138
    assert second["lat"] == pytest.approx(40.84735682, abs=1e-6)
    assert second["lon"] == pytest.approx(-73.93517138, abs=1e-6)
    assert second["address"] == "ST NICHOLAS AVENUE & WEST 178 STREET, 10033"
    assert (second["status"], second["channel"]) == ("open", "web")
    assert pd.isna(second["closure"])


def test_nyc_multi_line_field_and_line_numbers():
    frame = read("nyc", "portal.csv")
    third = row(frame, "41000003")
    assert third["closure"] == "duplicate" and third["channel"] == "app"
    assert "\n" in third["resolution"]
    # the header is line 1; record 3 spans lines 4-5, so the next record starts on line 6
    assert frame[LINE].tolist() == [2, 3, 4, 6, 7, 8, 9, 10]


def test_nyc_unusable_records_come_out_with_their_raw_text():
    frame = read("nyc", "portal.csv")
    bad_date = row(frame, "41000004")
    assert pd.isna(bad_date["created_at"]) and bad_date[RAW].startswith("41000004,not a date,")
    no_id = frame[frame["request_id"].isna()].iloc[0]
    assert no_id[LINE] == 7 and no_id[RAW].startswith(",04/18/2019 11:00:00 PM,")
    assert no_id["status"] == "open"  # "Email Sent"
    broken = row(frame, "41000007")
    assert broken[REJECT] == "unreadable line: 3 fields, expected 23"
    assert broken[RAW] == "41000007,04/18/2019 11:45:00 PM,broken line"


def test_a_block_with_a_broken_line_is_retried_in_pieces(monkeypatch):
    whole = read("nyc", "portal.csv")
    monkeypatch.setattr(reading, "PIECE_BYTES", 300)  # the fixture is one block of 7 pieces
    pieces = read("nyc", "portal.csv")
    pd.testing.assert_frame_equal(pieces, whole)
    assert pieces[REJECT].notna().sum() == 1


def test_nyc_odd_status_is_kept_and_location_column_used():
    frame = read("nyc", "portal.csv")
    draft = row(frame, "41000006")
    assert draft["status"] == "Draft"  # unknown: kept as published, ingest flags it
    assert (draft["lat"], draft["lon"]) == (40.7195, -73.9955)  # from "(40.7195, -73.9955)"
    last = row(frame, "41000008")  # the last line has no line break
    assert last["created_at"] == pd.Timestamp("2019-04-18 23:59:59") and last[LINE] == 10


def test_nyc_soda_csv():
    frame = read("nyc", "soda.csv")
    dict_location = row(frame, "61276295")  # "{'latitude': '40.84...', 'longitude': ...}"
    assert dict_location["lat"] == pytest.approx(40.84735682050765)
    assert dict_location["lon"] == pytest.approx(-73.93517137747149)
    assert dict_location["created_at"] == pd.Timestamp("2024-05-27 02:08:51")
    assert pd.isna(dict_location["address"])  # a ZIP alone is not an address
    assert dict_location["source_district"] == "10"  # Council District, where exported
    multi_line = row(frame, "66460470")  # location "\n,  \n(40.74..., -73.86...)"
    assert multi_line["lat"] == pytest.approx(40.748188757281845)
    assert multi_line["closed_at"] == pd.Timestamp("2025-10-13 02:30:00")
    assert frame[LINE].tolist() == [2, 3, 6]
    assert math.isnan(row(frame, "66460471")["lat"])


def test_nyc_soda_json_and_geojson():
    frame = read("nyc", "soda.json")
    geojson_point = row(frame, "70000001")
    assert (geojson_point["lat"], geojson_point["lon"]) == (40.7484, -73.9857)
    assert geojson_point["address"] == "350 5 AVENUE, 10001"
    state_plane = row(frame, "70000002")
    assert state_plane["lat"] == pytest.approx(40.73200740886107, abs=1e-6)
    assert frame[LINE].tolist() == [1, 2, 3]
    exported = read("nyc", "export.geojson")
    assert len(exported) == 2
    assert row(exported, "80000001")["lon"] == pytest.approx(-73.9442)
    assert math.isnan(row(exported, "80000002")["lat"])


def test_nyc_spreadsheet_resave_bare_cr_cp1252_two_digit_years():
    frame = read("nyc", "spreadsheet_cr_cp1252.csv")
    assert frame[LINE].tolist() == [2, 3, 4]
    assert row(frame, "32305206")["created_at"] == pd.Timestamp("2015-12-31 23:58")
    assert row(frame, "32305206")["closed_at"] == pd.Timestamp("2016-01-01 00:40")
    assert row(frame, "32305207")["resolution"] == "Caf\u00e9 owner\u2019s music \u2013 no action"
    assert row(frame, "32305208")["status"] == "open"


def test_nyc_file_without_header():
    frame = read("nyc", "noheader.csv")
    assert frame[LINE].tolist() == [1, 2, 3]  # the first row is a record, not a header
    first = row(frame, "46920293")
    assert first["created_at"] == pd.Timestamp("2020-07-20 10:51:12")
    assert first["request_type"] == "Damaged Tree"
    assert first["status"] == "closed"  # no status column: closed because it has a Closed Date
    assert row(frame, "46997111")["status"] == "open"


def test_headerless_file_of_unknown_width_is_refused(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("46920293,07/20/2020 10:51:12 AM,Damaged Tree\n")
    with pytest.raises(InputError, match="no header row"):
        read("nyc", path)


def test_missing_required_columns_are_named(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,opened\n1,2020-01-01\n")
    with pytest.raises(InputError, match="request_id .*created_at"):
        read("nyc", path)
    with pytest.raises(InputError, match="not found"):
        read("nyc", tmp_path / "nope.csv")


# --- Boston -----------------------------------------------------------------------------------


def test_boston_legacy_schema():
    frame = read("boston", "legacy.csv")
    first = row(frame, "101001240805")
    assert first["due_at"] == pd.Timestamp("2015-01-05 03:30:00")  # sla_target_dt
    assert (first["department"], first["category"], first["request_type"]) == (
        "Public Works Department", "Street Cleaning", "Pick up Dead Animal")
    assert first["source_district"] == "22"  # "Ward 22"
    assert first["channel"] == "phone" and first["closure"] == "resolved"
    assert first["address"] == "27 Shepard St  Brighton  MA  02135"


def test_boston_placeholder_point_and_mixed_wards():
    frame = read("boston", "legacy.csv")
    placeholder = row(frame, "101001240807")
    assert (placeholder["lat"], placeholder["lon"]) == (42.3594, -71.0587)  # kept for ingest
    assert placeholder["source_district"] == "8"  # "08"
    assert pd.isna(placeholder["address"]) and pd.isna(placeholder["resolution"])  # " "
    assert row(frame, "101001240821")["source_district"] == "2"  # "Ward 02"
    assert row(frame, "101001240816")["source_district"] == "19"  # "19"


def test_boston_closure_reasons():
    frame = read("boston", "legacy.csv")
    duplicate = row(frame, "101001240816")
    assert duplicate["closure"] == "duplicate" and duplicate["channel"] == "internal"
    assert duplicate["description"] == "Ground Maintenance: Boston Common"  # title says more
    assert row(frame, "101001240820")["closure"] == "other"  # Case Invalid
    assert row(frame, "101001240821")["closure"] == "referred"
    assert row(frame, "101001240820")["channel"] == "social"  # Twitter


def test_boston_target_dt_names_of_2022():
    frame = read("boston", "legacy_target_dt.csv")
    assert row(frame, "101004143000")["due_at"] == pd.Timestamp("2022-02-04 13:47:30")
    assert row(frame, "101004130437")["source_district"] == "3"


def test_boston_new_system():
    frame = read("boston", "new_system.csv")
    first = row(frame, "BCS-1000001")
    assert first["created_at"] == pd.Timestamp("2025-06-02 08:15:00")
    assert first["due_at"] == pd.Timestamp("2025-06-04 08:15:00")  # target_close_date
    assert (first["department"], first["category"], first["request_type"]) == (
        "Public Works", "Trash & Recycling", "Missed Trash Pickup")
    assert first["channel"] == "app" and first["resolution"] == "Collected the barrels."
    assert first["source_district"] == "3" and first["source_neighborhood"] == "Downtown"
    second = row(frame, "BCS-1000002")
    assert second["created_at"] == pd.Timestamp("2025-06-02 09:00:00")  # ISO with a T
    assert second["closure"] == "duplicate"
    assert row(frame, "BCS-1000003")["status"] == "open"


# --- San Francisco ----------------------------------------------------------------------------


def test_sf_bigquery_copy():
    frame = read("sf", "bigquery.csv")
    first = row(frame, "425904")
    # " UTC" is a mislabel of San Francisco wall-clock time (see civicstat.ingest.sources.sf)
    assert first["created_at"] == pd.Timestamp("2009-05-06 07:04:21")
    assert (first["category"], first["request_type"]) == ("Litter Receptacles", "City_Can_Removed")
    assert first["channel"] == "web" and first["source_district"] == "5"
    assert (row(frame, "1067530")["lat"], row(frame, "1067530")["lon"]) == pytest.approx(
        (37.75590515, -122.44133759))  # from "POINT (lon lat)"
    assert row(frame, "1067530")["source_district"] == "8"
    assert (row(frame, "257399")["lat"], row(frame, "257399")["lon"]) == (0.0, 0.0)  # as published
    assert row(frame, "1067531")["closure"] == "duplicate"
    assert row(frame, "1067531")["channel"] == "internal"


def test_sf_utc_is_converted_when_it_is_not_a_mislabel():
    values = pa.array(["2009-05-06 07:04:21 UTC"])
    local = parsing.datetimes(values, "America/Los_Angeles")
    assert local.to_pylist()[0] == pd.Timestamp("2009-05-06 00:04:21")
    kept = parsing.datetimes(values, "America/Los_Angeles", utc_label_is_local=True)
    assert kept.to_pylist()[0] == pd.Timestamp("2009-05-06 07:04:21")


def test_sf_portal_and_api():
    portal = read("sf", "portal.csv")
    transferred = row(portal, "10457851")
    assert transferred["created_at"] == pd.Timestamp("2019-04-01 08:02:11")
    assert transferred["closure"] == "referred"
    assert row(portal, "10457852")["lat"] == 37.765  # from Point when Latitude is empty
    api = read("sf", "api.json")
    cancelled = row(api, "20000001")
    assert cancelled["closure"] == "cancelled" and cancelled["channel"] == "app"
    assert cancelled["source_neighborhood"] == "Financial District/South Beach"


# --- Chicago ----------------------------------------------------------------------------------


def test_chicago_portal_csv():
    frame = read("chicago", "portal.csv")
    first = row(frame, "SR19-01209373")
    assert first["created_at"] == pd.Timestamp("2019-12-31 23:59:05")
    assert first["updated_at"] == pd.Timestamp("2020-01-03 08:14:22")
    assert first["department"] == "CDOT - Department of Transportation"
    assert first["address"] == "5900 W CHICAGO AVE, 60651"  # ZIP "60651.0"
    assert first["source_district"] == "29" and not first["is_information_only"]
    assert row(frame, "SR19-01209374")["closure"] == "duplicate"  # DUPLICATE true
    assert row(frame, "SR19-01209377")["closure"] == "cancelled"  # Canceled
    assert row(frame, "SR19-01209378")["channel"] == "internal"  # Alderman's Office


def test_chicago_information_only_calls():
    frame = read("chicago", "portal.csv")
    info = frame.set_index("request_id")["is_information_only"]
    assert info.to_dict() == {
        "SR19-01209373": False, "SR19-01209374": False, "SR19-01209375": True,
        "SR19-01209376": True, "SR19-01209377": False, "SR19-01209378": False,
    }


def test_chicago_state_plane_when_no_latitude():
    graffiti = row(read("chicago", "portal.csv"), "SR19-01209377")
    # 1600 N Milwaukee Ave
    assert graffiti["lat"] == pytest.approx(41.9104, abs=0.002)
    assert graffiti["lon"] == pytest.approx(-87.6775, abs=0.002)


def test_chicago_api_lower_case_names():
    frame = read("chicago", "api.csv")
    assert row(frame, "SR24-00000001")["created_at"] == pd.Timestamp("2024-01-02 08:00:00")
    assert row(frame, "SR24-00000001")["channel"] == "app"  # spot-open311-Json
    assert row(frame, "SR24-00000002")["closure"] == "duplicate"
    assert row(frame, "SR24-00000002")["channel"] == "email"


# --- Los Angeles ------------------------------------------------------------------------------


def test_la_statuses():
    frame = read("la", "myla311.csv")
    closed = row(frame, "1-870704831")
    assert closed["created_at"] == pd.Timestamp("2017-12-31 23:59:58")
    assert (closed["status"], closed["closure"], closed["channel"]) == ("closed", "resolved", "phone")
    assert closed["source_district"] == "13"
    assert closed["source_neighborhood"] == "GREATER ECHO PARK ELYSIAN NC"
    cancelled = row(frame, "1-870694601")
    assert (cancelled["status"], cancelled["closure"]) == ("closed", "cancelled")
    assert cancelled["lat"] == pytest.approx(34.1159756752)  # from Location
    assert cancelled["source_district"] == "1"  # "01"
    referred = row(frame, "1-870693641")
    assert (referred["status"], referred["closure"], referred["channel"]) == (
        "closed", "referred", "internal")
    pending = row(frame, "1-870693642")
    assert (pending["status"], pending["created_at"]) == ("open", pd.Timestamp("2017-12-31 11:50"))


def test_la_spaced_headers():
    frame = read("la", "myla311_spaced.csv")
    first = row(frame, "1-100000001")
    assert first["created_at"] == pd.Timestamp("2015-08-01 07:15:00")
    assert first["request_type"] == "Bulky Items" and first["source_district"] == "14"
    assert row(frame, "1-100000002")["channel"] == "internal"  # Driver Self Report


# --- reading ----------------------------------------------------------------------------------


def test_header_key_reduces_every_style_to_one():
    for name in ("Unique Key", "unique_key", "UniqueKey", "UNIQUE_KEY", " unique-key "):
        assert header_key(name) == "uniquekey"
    assert header_key("X Coordinate (State Plane)") == header_key("x_coordinate_state_plane")


def test_blank_lines_bom_crlf_and_tabs(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(
        b"\xef\xbb\xbfUnique Key\tCreated Date\r\n"
        b"1\t04/18/2019 09:55:45 PM\r\n"
        b"\r\n"
        b"2\t2019-04-18T22:00:00\r\n"
    )
    frame = read("nyc", path)
    assert frame["request_id"].tolist() == ["1", "2"]
    assert frame[LINE].tolist() == [2, 4]
    assert frame["created_at"].tolist() == [
        pd.Timestamp("2019-04-18 21:55:45"), pd.Timestamp("2019-04-18 22:00:00")]


def test_trailing_empty_fields_are_not_extra_fields(tmp_path):
    path = tmp_path / "commas.csv"
    path.write_text(
        "Unique Key,Created Date\n"
        "1,04/18/2019 09:55:45 PM,,\n"
        "2,04/18/2019 10:00:00 PM\n"
        "3,04/18/2019 10:05:00 PM,oops\n"
    )
    frame = read("nyc", path)
    assert frame["request_id"].tolist() == ["1", "2", "3"]
    assert frame[REJECT].tolist() == [None, None, "unreadable line: 3 fields, expected 2"]
    assert frame[RAW].tolist() == [None, None, "3,04/18/2019 10:05:00 PM,oops"]


def test_empty_file_has_no_records(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert read("nyc", path).empty


def test_unreadable_json_line_is_a_record(tmp_path):
    path = tmp_path / "soda.json"
    path.write_text(
        '[{"unique_key":"1","created_date":"2024-01-01T00:00:00.000"}\n'
        ',{"unique_key":"2","created_date":\n'
        ',{"unique_key":"3","created_date":"2024-01-02T00:00:00.000"}]\n'
    )
    frame = read("nyc", path)
    assert len(frame) == 3
    broken = frame.iloc[1]
    assert broken[REJECT] == "unreadable record" and broken[LINE] == 2
    assert broken[RAW] == ',{"unique_key":"2","created_date":'


def test_json_record_without_a_creation_time_keeps_its_line(tmp_path):
    path = tmp_path / "soda.json"
    path.write_text(
        '[{"unique_key":"1","created_date":"2024-01-01T00:00:00.000","lat":40.7}\n'
        ',{"unique_key":"2","lat":40.8}]\n'
    )
    frame = read("nyc", path)
    assert frame[LINE].tolist() == [1, 2]
    assert frame[RAW].tolist() == [None, ',{"unique_key":"2","lat":40.8}]']


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("04/18/2019 09:55:45 PM", "2019-04-18 21:55:45"),
        ("04/18/2019 12:00:00 AM", "2019-04-18 00:00:00"),
        ("4/8/2019 9:05 AM", "2019-04-08 09:05:00"),
        ("12/31/15 23:08", "2015-12-31 23:08:00"),
        ("1/4/16 0:39", "2016-01-04 00:39:00"),
        ("2024-05-27T02:08:51.000", "2024-05-27 02:08:51"),
        ("2015-01-01 07:33:18", "2015-01-01 07:33:18"),
        ("  2015-01-01 07:33:18 ", "2015-01-01 07:33:18"),
        ("2012-12-01T10:37:45-06:00", "2012-12-01 11:37:45"),  # New York time
        ("2012-07-01T10:37:45Z", "2012-07-01 06:37:45"),
        ("01/05/2018", "2018-01-05 00:00:00"),
        ("2024-02-30T00:00:00", None),
        ("not a date", None),
        ("", None),
    ],
)
def test_datetimes(text, expected):
    # mixed with a column of another format: each value is tried against every format
    values = pa.array([text, "04/18/2019 09:55:45 PM", None])
    parsed = parsing.datetimes(values, "America/New_York").to_pylist()
    assert parsed[0] == (pd.Timestamp(expected) if expected else None)
    assert parsed[1:] == [pd.Timestamp("2019-04-18 21:55:45"), None]


def test_point_forms():
    lat, lon = parsing.point(pa.array([
        "(40.7, -73.9)",
        "POINT (-122.45 37.76)",
        '{"type": "Point", "coordinates": [-87.63, 41.88]}',
        "{'latitude': '40.8', 'longitude': '-73.93', 'human_address': '{}'}",
        '{"latitude": "34.1", "longitude": "-118.2"}',
        "\n,  \n(40.74, -73.86)",
        "nowhere",
        None,
    ]))
    assert lat.to_pylist() == [40.7, 37.76, 41.88, 40.8, 34.1, 40.74, None, None]
    assert lon.to_pylist() == [-73.9, -122.45, -87.63, -73.93, -118.2, -73.86, None, None]


def test_zip_and_district_forms():
    zips = parsing.zip5(pa.array(["2119.0", "02119", "10033-1234", "10033.0", "", None, "n/a"]))
    assert zips.to_pylist() == ["02119", "02119", "10033", "10033", None, None, None]
    wards = parsing.district(pa.array(["Ward 8", "08", "8", "8.0", "Ward 22", "District 5",
                                       "CD 13", "00", "1B", None]))
    assert wards.to_pylist() == ["8", "8", "8", "8", "22", "5", "13", None, "1B", None]


def test_value_maps():
    closed_at = pa.array([None] * 5, parsing.TIMESTAMP)
    statuses = pa.array(["Closed", " in progress ", "Referred Out", "Weird", None])
    assert parsing.status(statuses, closed_at).to_pylist() == [
        "closed", "open", "closed", "Weird", "open"]
    channels = pa.array(["PHONE", "ONLINE", "MOBILE", "UNKNOWN", "Constituent Call", None])
    assert parsing.channel(channels).to_pylist() == ["phone", "web", "app", "other", "phone", None]
    state = pa.array(["closed"] * 5 + ["open"])
    notes = pa.array(["Duplicate of Existing Case", "Cancelled by customer", "Case Transferred",
                      "Case Invalid", "Fixed it", "duplicate"])
    assert parsing.closure(state, closing_text=notes).to_pylist() == [
        "duplicate", "cancelled", "referred", "other", "resolved", None]
    raw = pa.array(["Cancelled", "Referred Out", "Closed", "Closed", "Closed", "Open"])
    assert parsing.closure(state, raw).to_pylist() == [
        "cancelled", "referred", "resolved", "resolved", "resolved", None]
    assert parsing.truthy(pa.array(["true", "N", "1", "maybe", None])).to_pylist() == [
        True, False, True, None, None]
