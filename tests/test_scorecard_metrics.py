"""The staff scorecard's figures and scores equal an independent computation from GUIDE.md's
definitions (tests/metrics_reference.py) for every department of the demo city."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pandas as pd
import pytest

from civicstat.core.city import load_city
from civicstat.core.filters import resolve_period
from civicstat.core.scorecard import DEFAULT_ON_TIME_GOAL, score_frame, status
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot

from metrics_reference import load, scorecard_rows

FIGURES = {  # scorecard.sql column -> reference key
    "count_requests": "count_requests",
    "prev_count_requests": "prev_count_requests",
    "median_days_to_close": "median_days_to_close",
    "prev_median_days_to_close": "prev_median_days_to_close",
    "p90_days_to_close": "p90_days_to_close",
    "on_time_rate": "on_time_rate",
    "prev_on_time_rate": "prev_on_time_rate",
    "count_open": "count_open_at_end",
    "prev_count_open": "prev_count_open",
    "count_overdue": "count_overdue",
    "prev_count_overdue": "prev_count_overdue",
    "median_target_days": "median_target_days",
}


@pytest.fixture(scope="module")
def demo(demo_city):
    city = load_city(demo_city)
    frame = load(city.internal_path)
    with duckdb.connect(str(city.internal_path), read_only=True) as con:
        targets = dict(con.execute("select request_type, target_hours from request_types").fetchall())
        as_of = con.execute("select as_of from snapshot_info").fetchone()[0]
    return city, frame, targets, as_of


def run_scorecard(city, level, period, as_of, **dimensions):
    params = {"level": level, "start": period.start, "end": period.end,
              "prev_start": period.prev_start, "as_of": as_of,
              **{d: dimensions.get(d) for d in ("department", "district", "category",
                                                 "request_type", "channel")}}
    with connect_snapshot(city.internal_path) as con:
        return get_query("internal", "scorecard").run(con, params)


def same(got, want) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None or pd.isna(got)
    return got == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("period_key", ["30d", "90d", "365d"])
def test_every_department_equals_the_reference(demo, period_key):
    city, frame, targets, as_of = demo
    period = resolve_period(period_key, as_of)
    got = run_scorecard(city, "department", period, as_of)
    want = scorecard_rows(frame, targets, "department", period.start, period.end,
                          period.prev_start, as_of)
    rows = got[~got["is_total"]].set_index("group_key")
    assert len(rows) >= 10
    for department, expected in want.items():
        if not (expected["count_requests"] or expected["count_open_at_end"]
                or expected["prev_count_open"] or expected["prev_count_requests"]):
            continue
        assert department in rows.index, department
        for column, key in FIGURES.items():
            assert same(rows.loc[department, column], expected[key]), (department, column)


def test_request_types_of_a_department_and_a_district_filter(demo):
    city, frame, targets, as_of = demo
    period = resolve_period("90d", as_of)
    got = run_scorecard(city, "request_type", period, as_of, department="Housing",
                        district="District 4")
    want = scorecard_rows(frame, targets, "request_type", period.start, period.end,
                          period.prev_start, as_of, department="Housing", district="District 4")
    rows = got[~got["is_total"]].set_index("group_key")
    assert set(rows.index) <= set(want) and len(rows) >= 3
    for rtype in rows.index:
        for column, key in FIGURES.items():
            assert same(rows.loc[rtype, column], want[rtype][key]), (rtype, column)
    assert (rows["department"] == "Housing").all()


def test_the_total_row_is_the_whole_city(demo):
    city, frame, targets, as_of = demo
    period = resolve_period("90d", as_of)
    got = run_scorecard(city, "department", period, as_of)
    total = got[got["is_total"]].iloc[0]
    frame_all = frame.assign(everything="all")
    want = scorecard_rows(frame_all, targets, "everything", period.start, period.end,
                          period.prev_start, as_of)["all"]
    for column, key in FIGURES.items():
        assert same(total[column], want[key]), column


def test_scores_follow_the_written_rule(demo):
    """Targets: city.toml goal, else 80% on time and the median of the type targets; the score is
    the lower of on-time ÷ goal and median target ÷ median days; green from 1, amber from 0.9."""
    city, frame, targets, as_of = demo
    period = resolve_period("90d", as_of)
    scored = score_frame(run_scorecard(city, "department", period, as_of), "department",
                         city.goals)
    assert city.goals  # the demo configures some departments' goals
    for _, row in scored[~scored["is_total"]].iterrows():
        goal = city.goals.get(row["group_key"], {})
        on_time_goal = goal.get("on_time_rate", DEFAULT_ON_TIME_GOAL)
        median_goal = goal.get("median_days", row["median_target_days"])
        want = min(row["on_time_rate"] / on_time_goal,
                   median_goal / row["median_days_to_close"])
        assert row["score"] == pytest.approx(want), row["group_key"]
        assert row["score_status"] == status(want)
    statuses = set(scored["score_status"])
    assert {"green", "red"} <= statuses  # the demo has departments on and off target


def test_status_thresholds():
    assert status(1.0) == "green" and status(0.9) == "amber" and status(0.899) == "amber"
    assert status(0.894) == "red" and status(None) is None


@pytest.mark.parametrize(("period_args", "dimensions"), [
    # a period that ends before the as-of day: open and overdue at its end come from the daily
    # flows and daily_overdue, not from the requests open now
    (("custom", (-200, -80)), {}),
    (("custom", (-400, -35)), {"district": "District 2"}),
    (("30d", None), {"channel": "phone"}),
    (("365d", None), {"category": "Streets"}),
])
def test_other_periods_and_filters_equal_the_reference(demo, period_args, dimensions):
    city, frame, targets, as_of = demo
    key, offsets = period_args
    custom = None
    if offsets:
        custom = tuple((as_of + dt.timedelta(days=days)).date() for days in offsets)
    period = resolve_period(key, as_of, custom=custom)
    for level in ("department", "request_type"):
        got = run_scorecard(city, level, period, as_of, **dimensions)
        want = scorecard_rows(frame, targets, level, period.start, period.end,
                              period.prev_start, as_of, **dimensions)
        rows = got[~got["is_total"]].set_index("group_key")
        assert len(rows) >= 1
        for key_value, expected in want.items():
            if not (expected["count_requests"] or expected["count_open_at_end"]
                    or expected["prev_count_open"] or expected["prev_count_requests"]):
                assert key_value not in rows.index
                continue
            for column, ref in FIGURES.items():
                assert same(rows.loc[key_value, column], expected[ref]), (level, key_value, column)
        assert set(rows.index) <= set(want)


def test_the_total_row_of_a_period_that_ended_before_the_as_of(demo):
    city, frame, targets, as_of = demo
    custom = tuple((as_of + dt.timedelta(days=days)).date() for days in (-150, -61))
    period = resolve_period("custom", as_of, custom=custom)
    got = run_scorecard(city, "department", period, as_of, district="District 3")
    total = got[got["is_total"]].iloc[0]
    want = scorecard_rows(frame.assign(everything="all"), targets, "everything", period.start,
                          period.end, period.prev_start, as_of, district="District 3")["all"]
    for column, key in FIGURES.items():
        assert same(total[column], want[key]), column
