"""A tiny hand-written city for metric tests: four square districts and a dozen requests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from civicstat.core.city import City, load_city
from civicstat.core.schema import COLUMN_NAMES
from civicstat.ingest.store import connect_store

AS_OF = datetime(2024, 3, 31, 23, 0)

CITY_TOML = """
name = "Smallville"
timezone = "America/New_York"

[[boundaries]]
layer = "district"
file = "boundaries/districts.geojson"
key = "district"
population = "population"

[targets]
default_hours = 48
[targets.hours]
"Pothole" = 72
"Noise" = 24

[privacy]
k = 3
[privacy.sensitive]
"Encampment" = "no_location"
"Abuse Report" = "aggregate_only"
"""


def _square(x0: float, y0: float, size: float) -> list:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def district_geojson(names: tuple[str, ...] = ("D1", "D2", "D3", "D4")) -> dict:
    """Four 0.1° squares: D1 (SW), D2 (SE), D3 (NW), D4 (NE) around (40.0, -75.0), or `names`."""
    features = []
    for number, (dx, dy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        features.append({
            "type": "Feature",
            "properties": {"district": names[number - 1], "population": 1000 * number},
            "geometry": {"type": "Polygon",
                         "coordinates": _square(-75.0 + 0.1 * dx, 40.0 + 0.1 * dy, 0.1)},
        })
    return {"type": "FeatureCollection", "features": features}


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# request_id, created, closed, due, status, closure, department, type, district, lat, lon, channel
ROWS = [
    ("1", "2024-03-01 09:00", "2024-03-02 09:00", "2024-03-04 09:00", "closed", "resolved",
     "Streets", "Pothole", "D1", 40.012345, -74.987654, "phone"),
    ("2", "2024-03-05 10:00", "2024-03-15 10:00", "2024-03-08 10:00", "closed", "resolved",
     "Streets", "Pothole", "D1", 40.02, -74.95, "app"),
    ("3", "2024-03-10 22:00", None, "2024-03-11 22:00", "open", None,
     "Police", "Noise", "D2", 40.05, -74.85, "app"),
    ("4", "2024-03-20 08:00", None, "2024-04-10 08:00", "open", None,
     "Streets", "Street Light", "D3", 40.15, -74.95, "web"),
    ("5", "2024-03-21 08:00", "2024-03-21 09:00", "2024-03-23 08:00", "closed", "duplicate",
     "Streets", "Pothole", "D1", 40.01, -74.99, "phone"),
    ("6", "2024-03-25 12:00", "2024-03-24 12:00", "2024-03-27 12:00", "closed", "resolved",
     "Parks", "Tree", "D4", 40.15, -74.85, "phone"),
    ("7", "2024-03-26 12:00", "2024-03-28 12:00", None, "closed", "resolved",
     "Parks", "Tree", "D4", 40.16, -74.86, "email"),
    ("8", "2024-03-27 07:00", "2024-03-27 19:00", "2024-03-29 07:00", "closed", "cancelled",
     "Police", "Encampment", "D2", 40.051111, -74.851111, "phone"),
    ("9", "2024-03-28 07:00", "2024-03-30 07:00", "2024-03-30 07:00", "closed", "resolved",
     "Health", "Abuse Report", "D3", 40.151111, -74.951111, "phone"),
    # previous period (2024-01-31 .. 2024-03-01)
    ("10", "2024-02-10 09:00", "2024-02-12 09:00", "2024-02-13 09:00", "closed", "resolved",
     "Streets", "Pothole", "D1", 40.03, -74.97, "phone"),
    ("11", "2024-02-20 09:00", "2024-03-10 09:00", "2024-02-23 09:00", "closed", "resolved",
     "Streets", "Pothole", "D2", 40.03, -74.87, "phone"),
    ("12", "2024-01-15 09:00", None, "2024-01-17 09:00", "open", None,
     "Police", "Noise", "D2", 40.04, -74.88, "phone"),
]

PRIVATE = {"address": "12 Secret Lane", "description": "<script>alert('x')</script> my neighbour",
           "resolution": "Crew sent"}


def make_small_city(
    root: Path, rows: list[tuple] = ROWS, districts: tuple[str, ...] = ("D1", "D2", "D3", "D4"),
) -> City:
    """Write city.toml, boundaries (districts named `districts`) and a store holding ROWS;
    return the loaded City."""
    (root / "boundaries").mkdir(parents=True, exist_ok=True)
    (root / "city.toml").write_text(CITY_TOML, encoding="utf-8")
    (root / "boundaries" / "districts.geojson").write_text(json.dumps(district_geojson(districts)))
    con = connect_store(root / "store.duckdb")
    placeholders = ", ".join("?" for _ in COLUMN_NAMES)
    for (rid, created, closed, due, status, closure, dept, rtype, district, lat, lon,
         channel) in rows:
        record = {
            "request_id": rid, "created_at": t(created), "updated_at": t(closed or created),
            "closed_at": t(closed) if closed else None, "due_at": t(due) if due else None,
            "status": status, "closure": closure, "department": dept, "request_type": rtype,
            "category": dept, "channel": channel, "district": district, "neighborhood": None,
            "lat": lat, "lon": lon, "source": "test",
            "address": f"{rid} {PRIVATE['address']}",
            "description": f"{rid} {PRIVATE['description']}",
            "resolution": PRIVATE["resolution"] if closed else None,
        }
        con.execute(
            f"insert into requests ({', '.join(COLUMN_NAMES)}) values ({placeholders})",
            [record[c] for c in COLUMN_NAMES],
        )
    con.close()
    return load_city(root)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)
