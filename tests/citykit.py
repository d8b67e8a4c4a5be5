"""Tiny cities and adapters for ingest tests.

`make_city(tmp_path, **overrides)` writes a city folder: a 2 x 2 grid of 0.1-degree square
districts "1".."4" south-west of (40.2, -73.8), optionally two neighbourhoods ("West", "East"),
and a city.toml. Districts: 1 = SW, 2 = SE, 3 = NW, 4 = NE; centre points in CENTRES.

`FrameAdapter(records)` is an adapter whose file content is ignored: it yields the given records
(canonical columns plus `_line` / `_raw` / ...) as frames of `frame_rows`; `placeholder_file`
makes a file for it to be pointed at. `stub_publish(monkeypatch)` replaces civicstat.publish.build.publish
with a recorder, for tests that ingest without building snapshots.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from civicstat.core.city import City, load_city

ORIGIN_LON, ORIGIN_LAT, CELL = -74.0, 40.0, 0.1
CENTRES = {  # district -> (lat, lon)
    "1": (40.05, -73.95), "2": (40.05, -73.85), "3": (40.15, -73.95), "4": (40.15, -73.85),
}
OUTSIDE = (41.5, -72.0)  # lat, lon well outside the grid


def _square(x0: float, y0: float, w: float, h: float) -> list:
    return [[[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]]


def grid_geojson() -> dict:
    features = [
        {"type": "Feature", "properties": {"district": number, "population": 1000 * number},
         "geometry": {"type": "Polygon", "coordinates": _square(
             ORIGIN_LON + CELL * dx, ORIGIN_LAT + CELL * dy, CELL, CELL)}}
        for number, (dx, dy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1)
    ]
    return {"type": "FeatureCollection", "features": features}


def halves_geojson() -> dict:
    features = [
        {"type": "Feature", "properties": {"name": name},
         "geometry": {"type": "Polygon", "coordinates": _square(
             ORIGIN_LON + CELL * dx, ORIGIN_LAT, CELL, 2 * CELL)}}
        for name, dx in (("West", 0), ("East", 1))
    ]
    return {"type": "FeatureCollection", "features": features}


def _toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def make_city(tmp_path: Path, **overrides) -> City:
    """A city folder under TMP_PATH/city; overrides: name, timezone, default_hours,
    target_hours (dict), neighborhoods (bool, default True), folder (name), extra_toml (str)."""
    root = Path(tmp_path) / overrides.get("folder", "city")
    (root / "boundaries").mkdir(parents=True, exist_ok=True)
    (root / "boundaries" / "districts.geojson").write_text(json.dumps(grid_geojson()))
    lines = [
        f"name = {json.dumps(overrides.get('name', 'Testville'))}",
        f"timezone = {json.dumps(overrides.get('timezone', 'America/New_York'))}",
        "",
        "[[boundaries]]",
        'layer = "district"',
        'file = "boundaries/districts.geojson"',
        'key = "district"',
        'population = "population"',
    ]
    if overrides.get("neighborhoods", True):
        (root / "boundaries" / "halves.geojson").write_text(json.dumps(halves_geojson()))
        lines += ["", "[[boundaries]]", 'layer = "neighborhood"',
                  'file = "boundaries/halves.geojson"', 'key = "name"']
    lines += ["", "[targets]", f"default_hours = {overrides.get('default_hours', 48)}"]
    hours = overrides.get("target_hours", {"Pothole": 72})
    if hours:
        lines += ["[targets.hours]"] + [f"{json.dumps(k)} = {v}" for k, v in hours.items()]
    lines.append(overrides.get("extra_toml", ""))
    (root / "city.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_city(root)


class FrameAdapter:
    """Yields RECORDS (dicts of canonical columns and helpers) whatever the file holds."""

    def __init__(self, records: list[dict], frame_rows: int = 1000, name: str = "frames"):
        self.records = records
        self.frame_rows = frame_rows
        self.name = name

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        for start in range(0, len(self.records), self.frame_rows):
            chunk = self.records[start:start + self.frame_rows]
            frame = pd.DataFrame(chunk)
            if "_line" not in frame:
                frame["_line"] = range(start + 2, start + 2 + len(chunk))
            if "_raw" not in frame:
                frame["_raw"] = [json.dumps(r, default=str) for r in chunk]
            for column in ("created_at", "updated_at", "closed_at", "due_at"):
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
            yield frame


def stub_publish(monkeypatch) -> list:
    """Replace civicstat.publish.build.publish with a recorder; returns the list of calls."""
    calls: list = []

    def publish(city: City) -> dict:
        calls.append(city)
        return {"version": f"stub-{len(calls)}", "count_requests": 0}

    module = sys.modules.get("civicstat.publish.build")
    if module is None:
        try:
            import civicstat.publish.build as module
        except ImportError:
            module = types.ModuleType("civicstat.publish.build")
            monkeypatch.setitem(sys.modules, "civicstat.publish.build", module)
    monkeypatch.setattr(module, "publish", publish, raising=False)
    # the stub publishes nothing, so the snapshots would always look behind the store
    monkeypatch.setattr(module, "snapshots_behind", lambda city: False, raising=False)
    return calls


def placeholder_file(tmp_path: Path, name: str = "input.csv") -> Path:
    """A file for FrameAdapter runs (its content is never read)."""
    path = Path(tmp_path) / name
    path.write_text("frames\n", encoding="utf-8")
    return path
