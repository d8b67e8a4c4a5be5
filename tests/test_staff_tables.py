"""The internal snapshot's publish-time tables for the staff pages (queries/snapshot/staff/), and
the staff queries that read them, against pandas over the snapshot's own request rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot

from metrics_reference import load, select

DIMENSIONS = ("department", "district", "category", "request_type", "channel")


@pytest.fixture(scope="module")
def staff(staff_city):
    path = staff_city / "build" / "internal.duckdb"
    with connect_snapshot(path) as con:
        as_of = con.execute("select as_of from snapshot_info").fetchone()[0]
        quarantine = con.execute("select * from quarantine").df()
        runs = con.execute("select * from ingest_runs").df()
    return path, load(path), as_of, quarantine, runs


def table(path, name: str) -> pd.DataFrame:
    with connect_snapshot(path) as con:
        return con.execute(f"select * from {name}").df()


def run(path, name, **params) -> pd.DataFrame:
    with connect_snapshot(path) as con:
        return get_query("internal", name).run(con, params)


def open_now(frame: pd.DataFrame) -> pd.DataFrame:
    """The requests open at the as-of time that count in performance figures."""
    counted = select(frame)
    return counted[counted["status"] != "closed"]


def test_open_requests_are_the_open_ones_most_overdue_first(staff):
    path, frame, _, _, _ = staff
    got = table(path, "open_requests")
    want = open_now(frame).sort_values(["due_at", "request_id"], na_position="last")
    assert len(want) > 100
    assert got["request_id"].tolist() == want["request_id"].tolist()
    for column in ("created_at", "due_at", "department", "request_type", "district", "address",
                   "is_overdue"):
        assert got[column].equals(want[column].reset_index(drop=True)), column


def test_close_times_are_the_closed_requests_days_to_close(staff):
    path, frame, _, _, _ = staff
    got = table(path, "close_times")
    closed = select(frame)
    days = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    closed = closed.assign(day=closed["created_at"].dt.normalize(), days_to_close=days)
    closed = closed[(closed["status"] == "closed") & closed["closed_at"].notna()
                    & (closed["days_to_close"] >= 0)]
    key = ["department", "day", "days_to_close"]
    assert len(got) == len(closed) > 1000
    got_sorted = got.assign(day=pd.to_datetime(got["day"]))
    want = closed[[*key, "request_type", "district", "channel", "category"]]
    want = want.sort_values(key, na_position="last").reset_index(drop=True)
    assert got_sorted["department"].fillna("").tolist() == want["department"].fillna("").tolist()
    assert (got_sorted["day"].to_numpy() == want["day"].to_numpy()).all()
    assert got_sorted["days_to_close"].to_numpy() == pytest.approx(want["days_to_close"].to_numpy())
    # the order the quantiles rely on: by department, day, then days_to_close
    assert got_sorted.equals(got_sorted.sort_values(key, na_position="last"))


def test_type_typical_times(staff):
    path, frame, as_of, _, _ = staff
    got = table(path, "type_typical_times").set_index("request_type")
    counted = select(frame)
    recent = counted[(counted["created_at"] >= as_of - dt.timedelta(days=365))
                     & (counted["created_at"] <= as_of) & (counted["status"] == "closed")]
    days = (recent["closed_at"] - recent["created_at"]).dt.total_seconds() / 86400
    recent = recent.assign(days=days)[days >= 0]
    want = recent.groupby("request_type")["days"]
    assert len(got) >= 60
    for rtype, days_of_type in want:
        row = got.loc[rtype]
        assert row["count_closed"] == len(days_of_type), rtype
        assert row["median_days_to_close"] == pytest.approx(days_of_type.median(), rel=1e-9)
        assert row["p90_days_to_close"] == pytest.approx(days_of_type.quantile(0.9), rel=1e-9)
    shown = run(path, "type_typical_times")
    assert set(shown["request_type"]) >= set(want.groups)


def test_statuses(staff):
    path, frame, _, _, _ = staff
    got = table(path, "statuses").set_index("status")["count_requests"].to_dict()
    assert got == frame["status"].value_counts().to_dict()


def test_quarantine_by_reason(staff):
    path, _, _, quarantine, runs = staff
    got = run(path, "quarantine_summary")
    joined = quarantine.merge(runs[["run_id", "started_at"]], on="run_id", how="left")
    joined["reason"] = joined["reason"].fillna("(no reason)")
    joined["file"] = joined["file"].fillna("(unknown file)")
    want = joined.groupby(["reason", "file"]).agg(
        count_records=("run_id", "size"), count_runs=("run_id", "nunique"),
        last_run_started_at=("started_at", "max")).reset_index()
    assert len(want) >= 2
    merged = got.merge(want, on=["reason", "file"], suffixes=("", "_want"), validate="1:1")
    assert len(merged) == len(want) == len(got)
    for column in ("count_records", "count_runs", "last_run_started_at"):
        assert (merged[column] == merged[f"{column}_want"]).all(), column
    records = run(path, "quarantine_records", limit=1)
    assert len(records) == 1 and records["count_quarantined"].iloc[0] == len(quarantine)


def test_flags_by_month(staff):
    path, frame, _, _, _ = staff
    got = run(path, "quality_flags")
    rows = frame.assign(
        source=frame["source"].fillna("(unknown)"),
        month=frame["created_at"].dt.to_period("M").dt.to_timestamp(),
        flag=[(list(f) if isinstance(f, (list, tuple)) or hasattr(f, "tolist") else [])
              + (["closed_as_duplicate"] if c == "duplicate" else [])
              for f, c in zip(frame["flags"], frame["closure"], strict=True)],
    )
    totals = rows.groupby(["source", "month"]).size().rename("count_requests")
    flagged = rows.explode("flag").dropna(subset=["flag"])
    want = flagged.groupby(["source", "month", "flag"]).size().rename("count_flagged").reset_index()
    want = want.join(totals, on=["source", "month"])
    got = got.assign(month=pd.to_datetime(got["month"]))
    merged = got.merge(want, on=["source", "month", "flag"], suffixes=("", "_want"),
                       validate="1:1")
    assert len(merged) == len(want) == len(got) > 5
    assert (merged["count_flagged"] == merged["count_flagged_want"]).all()
    assert (merged["count_requests"] == merged["count_requests_want"]).all()


def test_field_fill_counts(staff):
    path, frame, _, _, _ = staff
    got = run(path, "field_completeness")

    def filled(series: pd.Series) -> pd.Series:
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            return series.notna() & (series.fillna("").str.strip(" ") != "")
        return series.notna()

    closing = {"closed_at", "closure", "resolution"}
    checked = 0
    for source, rows in frame.groupby(frame["source"].fillna("(unknown)")):
        closed = rows["status"] == "closed"
        for field in ("request_id", "created_at", "updated_at", "closed_at", "due_at", "status",
                      "closure", "department", "request_type", "category", "channel", "district",
                      "neighborhood", "address", "description", "resolution", "lat_lon"):
            is_filled = (rows["lat"].notna() & rows["lon"].notna()) if field == "lat_lon" \
                else filled(rows[field])
            applies = closed if field in closing else pd.Series(True, index=rows.index)
            row = got[(got["source"] == source) & (got["field"] == field)].iloc[0]
            assert row["count_applicable"] == int(applies.sum()), (source, field)
            assert row["count_filled"] == int((is_filled & applies).sum()), (source, field)
            checked += 1
    assert checked == len(got) and checked >= 34


@pytest.mark.parametrize("by", ["department", "request_type", "district"])
@pytest.mark.parametrize("dimension", [None, ("district", "District 2"), ("channel", "web")])
def test_backlog_aging_equals_pandas(staff, by, dimension):
    path, frame, as_of, _, _ = staff
    filters = dict.fromkeys(DIMENSIONS)
    if dimension:
        filters[dimension[0]] = dimension[1]
    got = run(path, "backlog_aging", by=by, as_of=as_of, **filters)
    rows = open_now(select(frame, **{k: v for k, v in filters.items() if v}))
    age = ((pd.Timestamp(as_of) - rows["created_at"]).dt.total_seconds() / 86400).apply(
        lambda d: float(int(d // 1)))
    rows = rows.assign(age=age, key=rows[by].fillna("(not set)"))
    assert len(rows) > (100 if dimension is None else 5)

    def figures(group: pd.DataFrame) -> dict:
        return {"count_age_0_7": int((group["age"] <= 7).sum()),
                "count_age_8_30": int(group["age"].between(8, 30).sum()),
                "count_age_31_90": int(group["age"].between(31, 90).sum()),
                "count_age_over_90": int((group["age"] > 90).sum()),
                "count_open": len(group), "count_overdue": int(group["is_overdue"].sum()),
                "median_age_days": group["age"].median(), "max_age_days": group["age"].max()}

    want = {key: figures(group) for key, group in rows.groupby("key")}
    total = figures(rows)
    got_rows = got[~got["is_total"]].set_index("group_key")
    assert set(got_rows.index) == set(want)
    for key, expected in want.items():
        for column, value in expected.items():
            assert got_rows.loc[key, column] == pytest.approx(value), (key, column)
    got_total = got[got["is_total"]].iloc[0]
    for column, value in total.items():
        assert got_total[column] == pytest.approx(value), column


@pytest.mark.parametrize("dimension", [None, ("department", "Housing"), ("district", "District 2")])
def test_overdue_requests_equal_pandas(staff, dimension):
    path, frame, as_of, _, _ = staff
    filters = dict.fromkeys(DIMENSIONS)
    if dimension:
        filters[dimension[0]] = dimension[1]
    got = run(path, "overdue_requests", as_of=as_of, limit=5, **filters)
    rows = open_now(select(frame, **{k: v for k, v in filters.items() if v}))
    overdue = rows[rows["due_at"] < as_of].sort_values(["due_at", "request_id"])
    assert len(overdue) > 5
    assert got["request_id"].tolist() == overdue["request_id"].head(5).tolist()
    assert (got["count_overdue"] == len(overdue)).all()
    late = (pd.Timestamp(as_of) - overdue["due_at"].head(5)).dt.total_seconds() / 86400
    assert got["days_late"].to_numpy() == pytest.approx(late.to_numpy())


SEARCHES = [
    {},  # the explorer's default: the period, newest first
    {"status": "open"},
    {"department": "Housing", "include_duplicates": False},
    {"district": "District 2", "channel": "phone"},
    {"request_type": "Pothole", "created_from": None},
    {"address": "st"},
    {"created_from": None, "created_to": None},
]


@pytest.mark.parametrize("given", SEARCHES)
@pytest.mark.parametrize("limit", [1, 7, 300, 100_000])
def test_requests_search_lists_the_newest_matches(staff, given, limit):
    """The newest `limit` matches, whole, in order (created_at desc, then request_id), and the
    number of matches in all: as a scan of every row would give them."""
    path, frame, as_of, _, _ = staff
    params = {"as_of": as_of, "request_id": None, "department": None, "district": None,
              "request_type": None, "channel": None, "status": None,
              "created_from": as_of - dt.timedelta(days=90), "created_to": as_of,
              "address": None, "include_duplicates": True, "limit": limit} | given
    got = run(path, "requests_search", **params)
    keep = pd.Series(True, index=frame.index)
    if not params["include_duplicates"]:
        keep &= frame["closure"].fillna("") != "duplicate"
    for column in ("department", "district", "request_type", "channel", "status"):
        if params[column] is not None:
            keep &= frame[column] == params[column]
    if params["created_from"] is not None:
        keep &= frame["created_at"] >= params["created_from"]
    if params["created_to"] is not None:
        keep &= frame["created_at"] < params["created_to"]
    if params["address"] is not None:
        keep &= frame["address"].fillna("").str.lower().str.contains(params["address"].lower(),
                                                                    regex=False)
    matches = frame[keep].sort_values(["created_at", "request_id"], ascending=[False, True])
    assert len(matches) > 0
    want = matches.head(limit)
    assert got["request_id"].tolist() == want["request_id"].tolist()
    assert (got["count_matching"] == len(matches)).all()
    assert got["description"].fillna("").tolist() == want["description"].fillna("").tolist()
