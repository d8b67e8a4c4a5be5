"""The staff queries on their own: search semantics, aging buckets, data quality, exports, maps."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from civicstat.exports.formats import to_csv
from civicstat.publish.build import publish
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot
from civicstat.web import maps

from smallcity import make_small_city
from staffcity import HOSTILE_ADDRESS, HOSTILE_TYPE

REF = dt.datetime(2024, 6, 1, 12, 0)


def run(path, name, **params):
    with connect_snapshot(path) as con:
        return get_query("internal", name).run(con, params)


def search(path, as_of=REF, **given):
    params = {"as_of": as_of, "request_id": None, "department": None, "district": None,
              "request_type": None, "channel": None, "status": None, "created_from": None,
              "created_to": None, "address": None, "include_duplicates": True, "limit": 100}
    return run(path, "requests_search", **(params | given))


def row(rid, age_days, due_in_days=None, status="open", address=None, closure=None):
    """A smallcity row created `age_days` before REF (open unless status says otherwise)."""
    created = REF - dt.timedelta(days=age_days)
    due = created + dt.timedelta(days=due_in_days) if due_in_days is not None else None
    closed = REF if status == "closed" else None
    return (rid, f"{created:%Y-%m-%d %H:%M:%S}", closed and f"{closed:%Y-%m-%d %H:%M:%S}",
            due and f"{due:%Y-%m-%d %H:%M:%S}", status, closure, "Streets", "Pothole", "D1",
            40.01, -74.99, "phone"), address


@pytest.fixture(scope="module")
def aged(tmp_path_factory):
    """Open requests of known ages at REF (the as-of, pinned by one request closed at REF)."""
    specs = [row("a0", 0.5, 1), row("a7", 7.99, 30), row("a8", 8.0, 1), row("a30", 30.9, 60),
             row("a31", 31.0, 60), row("a90", 90.99, 100), row("a91", 91.0, 1),
             row("pin", 2, 1, status="closed"), row("dup", 3, 1, status="closed",
                                                     closure="duplicate")]
    city = make_small_city(tmp_path_factory.mktemp("aged"), [r for r, _ in specs])
    publish(city)
    return city.internal_path


def test_aging_buckets_count_whole_days(aged):
    aging = run(aged, "backlog_aging", by="department", as_of=REF, department=None, district=None,
                category=None, request_type=None, channel=None)
    total = aging[aging["is_total"]].iloc[0]
    assert (total["count_age_0_7"], total["count_age_8_30"], total["count_age_31_90"],
            total["count_age_over_90"]) == (2, 2, 2, 1)
    assert total["count_open"] == 7
    # overdue at REF: a0 (due after 1 day of its 0.5), no; a8 (due 1 day after, 8 days ago), a91
    assert total["count_overdue"] == 2
    overdue = run(aged, "overdue_requests", as_of=REF, department=None, district=None,
                  category=None, request_type=None, channel=None, limit=10)
    assert overdue["request_id"].tolist() == ["a91", "a8"]  # most overdue first
    assert overdue["days_late"].tolist() == pytest.approx([90.0, 7.0])
    assert (overdue["count_overdue"] == 2).all()


def test_unknown_grouping_is_refused(aged):
    with pytest.raises(duckdb.Error):
        run(aged, "backlog_aging", by="address", as_of=REF, department=None, district=None,
            category=None, request_type=None, channel=None)


def test_search_by_id_type_status_and_dates(staff_city):
    path = staff_city / "build" / "internal.duckdb"
    one = search(path, request_id="X-SECRET")
    assert one["request_id"].tolist() == ["X-SECRET"] and one["count_matching"].iloc[0] == 1
    assert search(path, request_id="x-secret").empty  # ids are exact
    hostile = search(path, request_type=HOSTILE_TYPE, status="open", limit=1000)
    assert set(hostile["request_id"]) >= {"X-HOSTILE-SCRIPT", "X-HOSTILE-IMG", "X-HOSTILE-LINK"}
    assert (hostile["status"] == "open").all()
    assert len(run(path, "type_typical_times")) > 60  # every request type


def test_address_text_is_literal_and_case_insensitive(staff_city):
    path = staff_city / "build" / "internal.duckdb"
    assert set(search(path, address="civicstat-SECRET")["request_id"]) == {"X-SECRET"}
    for pattern in ("%", "_", "\\", "%SECRET%", "SECRET_ADDRESS", "'; drop table requests; --"):
        assert search(path, address=pattern).empty, pattern
    assert set(search(path, address="<svg onload")["request_id"]) >= {"X-HOSTILE-SCRIPT"}
    assert len(search(path, address=None, limit=5)) == 5


def test_quality_queries_see_quarantine_and_flags(staff_city):
    path = staff_city / "build" / "internal.duckdb"
    summary = run(path, "quarantine_summary")
    assert set(summary["reason"]) == {"no_id", "no_created_at"}
    assert summary["file"].str.endswith("messy <export>.csv").all()
    records = run(path, "quarantine_records", limit=10)
    assert (records["count_quarantined"] == 2).all()
    assert records["raw"].str.contains("<script>").any()
    flags = run(path, "quality_flags")
    assert set(flags["flag"]) >= {"closed_before_created", "no_coordinates",
                                  "placeholder_coordinates", "outside_city", "unknown_status",
                                  "duplicate_id_in_file", "closed_as_duplicate"}
    assert (flags["count_flagged"] <= flags["count_requests"]).all()
    completeness = run(path, "field_completeness")
    assert completeness["share_filled"].between(0, 1).all()
    assert len(set(completeness["source"])) == 2  # the demo and the messy file


def test_csv_export_defuses_formulas():
    import csv
    import io

    import pandas as pd

    frame = pd.DataFrame({"text": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "plain", None],
                          "number": [-1, 2, 3, 4, 5, 6],
                          "flags": [["a", "b"], [], None, [], [], []]})
    rows = list(csv.DictReader(io.StringIO(to_csv(frame).decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"x\")", "+1", "-2", "'@SUM(A1)", "plain", ""]
    assert rows[0]["number"] == "-1"  # numbers stay numbers
    assert rows[0]["flags"] == "a; b"


def test_map_tooltips_are_escaped(staff_city):
    path = staff_city / "build" / "internal.duckdb"
    found = search(path, request_type=HOSTILE_TYPE, limit=1000)
    outlines = run(path, "district_outlines")
    deck, legend = maps.request_points(found, outlines)
    spec = json.loads(deck.to_json())
    points = next(layer for layer in spec["layers"] if layer["id"] == "requests")["data"]
    texts = json.dumps(points)
    assert "<img" not in texts and "<svg" not in texts
    assert "&lt;svg onload=alert(&#x27;address&#x27;)&gt;" in texts
    assert HOSTILE_ADDRESS not in texts
    assert len(points) == found["lat"].notna().sum()
    assert [text for _, text in legend] == ["Open and overdue", "Open, not yet due", "Closed"]
