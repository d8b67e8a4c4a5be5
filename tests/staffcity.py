"""A city for the staff-view tests: a small demo city plus one ingested file of messy and hostile
records, so that every internal page has quarantine, flags and markup-laden text to show.

HOSTILE holds the texts that must show as text and never run; SECRET_* are markers that must
never reach a visitor who is not signed in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from citykit import FrameAdapter, placeholder_file

STAFF_DEMO_ROWS = 30_000
SECRET_ADDRESS = "77 CIVICSTAT-SECRET-ADDRESS Lane"
SECRET_DESCRIPTION = "CIVICSTAT-SECRET-DESCRIPTION about my neighbour"
HOSTILE = {
    "script": "<script>alert('script-desc')</script>",
    "img": "<img src=x onerror=alert('img-desc')>",
    "link": "[click me](javascript:alert('link-desc'))",
}
HOSTILE_TYPE = "<img src=x onerror=alert('type')> Sinkhole"
HOSTILE_ADDRESS = "<svg onload=alert('address')> 1 Main St"


def _inside_point(store: Path) -> tuple[float, float]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(
            "select lat, lon from requests where district is not null and lat is not null "
            "order by request_id limit 1"
        ).fetchone()


def _as_of(store: Path) -> dt.datetime:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("select max(created_at) from requests").fetchone()[0]


def messy_records(as_of: dt.datetime, lat: float, lon: float) -> list[dict]:
    """Hostile texts in every free-text field, and one record of each kind of data problem."""
    def at(days_ago: float) -> str:
        return (as_of - dt.timedelta(days=days_ago)).isoformat(sep=" ")

    base = {"department": "Streets & Sanitation", "request_type": HOSTILE_TYPE,
            "category": "Streets", "channel": "web", "lat": lat, "lon": lon}
    records = [
        {**base, "request_id": f"X-HOSTILE-{name.upper()}", "created_at": at(40 + i),
         "status": "open", "description": text, "address": HOSTILE_ADDRESS}
        for i, (name, text) in enumerate(HOSTILE.items())
    ]
    records += [
        {**base, "request_id": "X-SECRET", "created_at": at(20), "status": "closed",
         "closed_at": at(18), "closure": "resolved", "address": SECRET_ADDRESS,
         "description": SECRET_DESCRIPTION, "resolution": "<b>Fixed</b> &amp; done"},
        # kept and flagged
        {**base, "request_id": "X-CLOSED-EARLY", "created_at": at(10), "status": "closed",
         "closed_at": at(11), "description": "closed before it was made"},
        {**base, "request_id": "X-NO-COORDS", "created_at": at(9), "lat": None, "lon": None},
        {**base, "request_id": "X-ZERO", "created_at": at(8), "lat": 0.0, "lon": 0.0},
        {**base, "request_id": "X-OUTSIDE", "created_at": at(7), "lat": 10.0, "lon": 10.0},
        {**base, "request_id": "X-STATUS", "created_at": at(6), "status": "Pending review"},
        {**base, "request_id": "X-TWICE", "created_at": at(5), "description": "first copy"},
        {**base, "request_id": "X-TWICE", "created_at": at(5), "updated_at": at(4),
         "description": "second copy"},
        # quarantined: unusable
        {**base, "request_id": None, "created_at": at(3),
         "description": "=HYPERLINK(\"http://example.com\",\"no id\") <script>alert('raw')</script>"},
        {**base, "request_id": "X-NO-DATE", "created_at": "not a date"},
    ]
    return records


def build_staff_city(root: Path, rows: int = STAFF_DEMO_ROWS) -> Path:
    """The demo city at `rows` requests, plus messy_records() ingested (and published)."""
    from civicstat.core.city import load_city
    from civicstat.demo.generator import build_demo
    from civicstat.ingest.pipeline import ingest_files

    build_demo(root, rows=rows)
    city = load_city(root)
    lat, lon = _inside_point(city.store_path)
    records = messy_records(_as_of(city.store_path), lat, lon)
    ingest_files(city, [placeholder_file(root, "messy <export>.csv")], FrameAdapter(records))
    return root
