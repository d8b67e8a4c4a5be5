"""Every real export in ../shared/data read by its city's adapter, checked against an independent
reading (the csv / json modules and datetime.strptime): record count, line numbers, the real
range of created times, and how many rows have coordinates.

Skipped with a message when ../shared is absent; a failure in CI (see conftest.shared_data).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from civicstat.ingest.sources import boston
from civicstat.ingest.sources.base import LINE, RAW, REJECT
from civicstat.ingest.sources.registry import get_adapter

pytestmark = pytest.mark.shared

FOLDERS = ("nyc", "boston", "sf", "chicago", "la")  # <city>/311 under ../shared/data
ZONES = {"nyc": "America/New_York", "boston": "America/New_York", "sf": "America/Los_Angeles",
         "chicago": "America/Chicago", "la": "America/Los_Angeles"}
PORTAL = "%m/%d/%Y %I:%M:%S %p"
SODA = "%Y-%m-%dT%H:%M:%S.%f"


@dataclass(frozen=True)
class Export:
    """What we know of one real file, to read it independently of the adapter."""

    city: str
    name: str
    records: int
    created: str | int  # the created-time column (name, or position without a header)
    date_format: str
    located: float  # the least share of rows with coordinates
    header: bool = True


EXPORTS = (
    Export("nyc", "nyc311_2013-12_nikeiubel.csv", 2386, "Created Date", PORTAL, 0.95),
    Export("nyc", "nyc311_2018-06_mzuber88.csv", 1000, "Created Date", PORTAL, 0.85),
    # 5 columns, no coordinates at all
    Export("nyc", "nyc311_2020_reduced_gozzi98_noheader.csv", 17418, 1, PORTAL, 0.0, False),
    Export("nyc", "nyc311_2022-05_fedhere.csv", 924, "Created Date", PORTAL, 0.95),
    Export("nyc", "nyc311_2024-05_anthonyupf.csv", 1000, "created_date", SODA, 0.95),
    Export("nyc", "nyc311_2024-05_anthonyupf_soda.json", 1000, "created_date", SODA, 0.95),
    Export("nyc", "nyc311_2025-10_mohrum12.csv", 1000, "created_date", SODA, 0.95),
    Export("nyc", "nyc311_noise_janawalker.csv", 1617, "CreatedDate", "%m/%d/%y %H:%M", 0.95),
    Export("boston", "boston311_100_qsv.csv", 100, "open_dt", "%Y-%m-%d %H:%M:%S", 0.95),
    Export("boston", "boston311_animal_pest_2015_buspark.csv", 8887, "open_dt",
           "%Y-%m-%d %H:%M:%S", 0.95),
    Export("boston", "boston311_animal_pest_2016_buspark.csv", 7494, "open_dt",
           "%Y-%m-%d %H:%M:%S", 0.95),
    Export("boston", "boston311_animal_pest_2017_buspark.csv", 7760, "open_dt",
           "%Y-%m-%d %H:%M:%S", 0.95),
    # " UTC" labels San Francisco wall-clock time (see civicstat.ingest.sources.sf)
    Export("sf", "sf311_sample_2008-2016.csv", 6211, "created_date", "%Y-%m-%d %H:%M:%S UTC",
           0.95),
    # 1,753 of its rows have no coordinates in the export itself
    Export("la", "myla311_2017_subset.csv", 9999, "CreatedDate", PORTAL, 0.8),
    Export("la", "myla311_2018_mini.csv", 10000, "CreatedDate", PORTAL, 0.95),
)


def _path(shared_data: Path, export: Export) -> Path:
    return shared_data / export.city / "311" / export.name


def _independent(path: Path, export: Export) -> tuple[int, list[int], datetime, datetime]:
    """(records, the line each record starts on, earliest and latest created) without the adapter."""
    if path.suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"))
        lines = list(range(1, len(records) + 1))  # SODA writes one record per line
        created = [r[export.created] for r in records]
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            rows, lines, consumed = [], [], 0
            for fields in reader:
                rows.append(fields)
                lines.append(consumed + 1)
                consumed = reader.line_num
        if export.header:
            created_index = rows[0].index(export.created)
            rows, lines = rows[1:], lines[1:]
        else:
            created_index = export.created
        created = [r[created_index] for r in rows]
    times = [datetime.strptime(value, export.date_format) for value in created]
    return len(created), lines, min(times), max(times)


@pytest.fixture(scope="module")
def frames(shared_data):
    """Each export as the adapter reads it (read once for all the tests of this module)."""
    out = {}
    for export in EXPORTS:
        adapter = get_adapter(export.city)
        parts = list(adapter.read(_path(shared_data, export), ZONES[export.city]))
        out[export.name] = pd.concat(parts, ignore_index=True)
    return out


def test_every_export_is_covered(shared_data):
    found = {
        (city, path.name)
        for city in FOLDERS
        for path in sorted((shared_data / city / "311").glob("*"))
        if path.is_file() and path.suffix in (".csv", ".json")
    }
    assert found == {(e.city, e.name) for e in EXPORTS}


@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: e.name)
def test_export_is_read_whole_and_right(shared_data, frames, export):
    frame = frames[export.name]
    records, lines, earliest, latest = _independent(_path(shared_data, export), export)
    assert len(frame) == records == export.records
    assert frame[LINE].tolist() == lines
    assert frame["created_at"].min() == pd.Timestamp(earliest)
    assert frame["created_at"].max() == pd.Timestamp(latest)
    # every record usable: none would go to quarantine
    assert frame["request_id"].notna().all() and frame["request_id"].is_unique
    assert frame["created_at"].notna().all()
    assert frame[REJECT].isna().all() and frame[RAW].isna().all()
    assert set(frame["status"]) <= {"open", "closed"}
    located = (frame["lat"].notna() & frame["lon"].notna()).mean()
    assert located >= export.located
    if export.located == 0.0:
        assert located == 0.0


def test_soda_json_maps_like_the_csv_of_the_same_records(frames):
    """The anthonyupf SODA JSON holds the same 1,000 records as its CSV: same canonical rows."""
    meta = [LINE, RAW, REJECT, "source"]

    def canonical(name: str) -> pd.DataFrame:
        frame = frames[name].drop(columns=meta)
        return frame.sort_values("request_id").reset_index(drop=True)

    from_csv = canonical("nyc311_2024-05_anthonyupf.csv")
    from_json = canonical("nyc311_2024-05_anthonyupf_soda.json")
    assert sorted(from_csv.columns) == sorted(from_json.columns)
    pd.testing.assert_frame_equal(from_csv, from_json[from_csv.columns])


def test_sf_times_are_local_wall_clock(frames):
    """The sample's requests come in office hours once read as local time (1-8 am if UTC were
    true), which is why sources.sf reads its " UTC" as a mislabel."""
    hours = frames["sf311_sample_2008-2016.csv"]["created_at"].dt.hour
    assert hours.between(8, 17).mean() > 0.6
    assert hours.between(1, 6).mean() < 0.05


def test_boston_placeholder_point_comes_through(frames):
    sample = frames["boston311_100_qsv.csv"]
    lat, lon = boston.PLACEHOLDER
    at_city_hall = (sample["lat"] == lat) & (sample["lon"] == lon)
    assert at_city_hall.sum() == 19
    wards = pd.concat([frames[e.name]["source_district"] for e in EXPORTS if e.city == "boston"])
    assert set(wards.dropna()) <= {str(n) for n in range(1, 23)}  # "Ward 8", "08" -> "8"
