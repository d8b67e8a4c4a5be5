"""Ingest speed: a synthetic NYC-portal-shaped CSV (41 columns) loaded through the full pipeline.

    .venv/bin/python bench/ingest_speed.py [ROWS] [--source nyc|mapping]

Writes the CSV once (cached under /tmp), ingests it into a fresh tiny city (publish skipped) and
prints rows read, seconds and rows/s; then ingests the same file again (the all-unchanged replay).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = (
    "Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,"
    "Location Type,Incident Zip,Incident Address,Street Name,Cross Street 1,Cross Street 2,"
    "Intersection Street 1,Intersection Street 2,Address Type,City,Landmark,Facility Type,Status,"
    "Due Date,Resolution Description,Resolution Action Updated Date,Community Board,BBL,Borough,"
    "X Coordinate (State Plane),Y Coordinate (State Plane),Open Data Channel Type,"
    "Park Facility Name,Park Borough,Vehicle Type,Taxi Company Borough,Taxi Pick Up Location,"
    "Bridge Highway Name,Bridge Highway Direction,Road Ramp,Bridge Highway Segment,Latitude,"
    "Longitude,Location"
).split(",")

AGENCIES = ["NYPD", "DOT", "DSNY", "HPD", "DEP", "DOB", "DPR", "DOHMH"]
TYPES = ["Noise - Residential", "Illegal Parking", "Blocked Driveway", "Street Condition",
         "HEAT/HOT WATER", "Street Light Condition", "Water System", "Dirty Condition",
         "Noise - Street/Sidewalk", "Rodent", "Sewer", "Damaged Tree", "Graffiti", "Pothole"]
STATUSES = ["Closed", "Closed", "Closed", "Open", "In Progress", "Assigned", "Pending"]
CHANNELS = ["PHONE", "ONLINE", "MOBILE", "UNKNOWN", "OTHER"]
BOROUGHS = ["BROOKLYN", "QUEENS", "MANHATTAN", "BRONX", "STATEN ISLAND"]
DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def make_nyc_csv(path: Path, rows: int, seed: int = 0, first_id: int = 30_000_000) -> Path:
    """Write ROWS synthetic NYC 311 portal rows (Title Case headers, AM/PM dates) to PATH, with
    ids from `first_id` on."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2018-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * 86400, rows), unit="s")
    closed = created + pd.to_timedelta(rng.integers(60, 30 * 86400, rows), unit="s")
    status = np.array(STATUSES)[rng.integers(0, len(STATUSES), rows)]
    is_closed = status == "Closed"
    lat = rng.uniform(40.50, 40.91, rows)
    lon = rng.uniform(-74.25, -73.70, rows)
    no_xy = rng.random(rows) < 0.03

    def fmt(ts: pd.Series | pd.DatetimeIndex, mask=None) -> pd.Series:
        out = pd.Series(ts).dt.strftime(DATE_FORMAT)
        return out.where(mask, "") if mask is not None else out

    pick = lambda values: np.array(values)[rng.integers(0, len(values), rows)]  # noqa: E731
    frame = pd.DataFrame({name: "" for name in HEADER}, index=range(rows))
    frame["Unique Key"] = np.arange(first_id, first_id + rows)
    frame["Created Date"] = fmt(created)
    frame["Closed Date"] = fmt(closed, is_closed)
    agency = pick(AGENCIES)
    frame["Agency"] = agency
    frame["Agency Name"] = agency
    frame["Complaint Type"] = pick(TYPES)
    frame["Descriptor"] = "Loud Music/Party"
    frame["Location Type"] = "Street/Sidewalk"
    frame["Incident Zip"] = rng.integers(10001, 11698, rows)
    frame["Incident Address"] = pd.Series(rng.integers(1, 999, rows)).astype(str) + " MAIN STREET"
    frame["Street Name"] = "MAIN STREET"
    frame["City"] = pick(BOROUGHS)
    frame["Status"] = status
    frame["Due Date"] = fmt(created + pd.Timedelta(hours=8))
    frame["Resolution Description"] = np.where(
        is_closed, "The Police Department responded to the complaint, and took action.", "")
    frame["Resolution Action Updated Date"] = fmt(closed, is_closed)
    frame["Community Board"] = "12 MANHATTAN"
    frame["Borough"] = frame["City"]
    frame["Open Data Channel Type"] = pick(CHANNELS)
    frame["Latitude"] = np.where(no_xy, np.nan, lat)
    frame["Longitude"] = np.where(no_xy, np.nan, lon)
    frame["Location"] = np.where(
        no_xy, "", "(" + frame["Latitude"].astype(str) + ", " + frame["Longitude"].astype(str) + ")")
    frame.to_csv(path, index=False)
    return path


NYC_MAPPING = """
name = "nyc-synthetic"
[dates]
formats = ["%m/%d/%Y %I:%M:%S %p"]
[columns]
request_id = "Unique Key"
created_at = "Created Date"
closed_at = "Closed Date"
updated_at = "Resolution Action Updated Date"
due_at = "Due Date"
status = "Status"
department = "Agency"
request_type = "Complaint Type"
category = "Descriptor"
channel = "Open Data Channel Type"
lat = "Latitude"
lon = "Longitude"
address = "Incident Address"
resolution = "Resolution Description"
source_district = "Community Board"
[status]
open = ["Open", "In Progress", "Assigned", "Pending", "Started"]
closed = ["Closed"]
[channel]
phone = ["PHONE"]
web = ["ONLINE"]
app = ["MOBILE"]
"""


DEFAULT_BOUNDARIES = Path(__file__).resolve().parents[2] / "shared/data/nyc/boundaries/city_council.geojson"


def make_bench_city(root: Path, name: str, boundaries: Path = DEFAULT_BOUNDARIES) -> Path:
    """A city folder at `root`: New York's council districts, a 72-hour default target."""
    (root / "boundaries").mkdir(parents=True)
    shutil.copy(boundaries, root / "boundaries" / boundaries.name)
    (root / "city.toml").write_text(
        f'name = "{name}"\ntimezone = "America/New_York"\n[[boundaries]]\nlayer = "district"\n'
        f'file = "boundaries/{boundaries.name}"\nkey = "CounDist"\n'
        '[targets]\ndefault_hours = 72\n', encoding="utf-8")
    return root


def measure(rows: int, source: str = "nyc", boundaries: Path = DEFAULT_BOUNDARIES) -> dict:
    """Write (once) a ROWS-row NYC portal CSV, ingest it into a fresh city twice (publish
    skipped): {"rows", "seconds", "rows_per_s", "replay_seconds", ...}."""
    from civicstat.core.city import load_city
    from civicstat.ingest import pipeline as ingest
    from civicstat.ingest.sources.registry import get_adapter

    csv = Path(tempfile.gettempdir()) / f"civicstat_bench_nyc_{rows}.csv"
    if not csv.exists():
        make_nyc_csv(csv, rows)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_bench_city(Path(tmp) / "city", "Bench", boundaries)
        city = load_city(root)
        if source == "mapping":
            from civicstat.ingest.sources.mapping import load_adapter
            mapping = root / "nyc.toml"
            mapping.write_text(NYC_MAPPING, encoding="utf-8")
            adapter = load_adapter(mapping)
        else:
            adapter = get_adapter("nyc")
        runs = {}
        for run in ("first", "replay"):
            started = time.perf_counter()
            summary = ingest.ingest_files(city, [csv], adapter, publish_after=False)
            runs[run] = (time.perf_counter() - started, summary)
    seconds, first = runs["first"]
    replay_seconds, replay = runs["replay"]
    return {
        "rows": first.read, "source": source, "csv_mb": round(csv.stat().st_size / 1e6),
        "seconds": seconds, "rows_per_s": first.read / seconds,
        "inserted": first.inserted, "rejected": first.rejected,
        "replay_seconds": replay_seconds, "replay_unchanged": replay.unchanged,
        "loadavg_after": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--source", default="mapping", choices=["nyc", "mapping"])
    parser.add_argument("--boundaries", type=Path, default=DEFAULT_BOUNDARIES)
    args = parser.parse_args()
    result = measure(args.rows, args.source, args.boundaries)
    print(f"{result['rows']:,} rows ({args.source}) in {result['seconds']:.1f} s: "
          f"{result['rows_per_s']:,.0f} rows/s; replay {result['replay_seconds']:.1f} s "
          f"({result['replay_unchanged']:,} unchanged)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
