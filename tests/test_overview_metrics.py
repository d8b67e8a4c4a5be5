"""The Overview's figures equal an independent computation from GUIDE.md's definitions."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from civicstat.core.filters import resolve_period
from civicstat.publish.build import publish
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot

from metrics_reference import figures, load, select
from smallcity import AS_OF, make_small_city

DIMENSIONS = ("department", "district", "category", "request_type", "channel")


def run_kpis(con, period, as_of, **dimensions):
    params = {
        "start": period.start, "end": period.end, "prev_start": period.prev_start,
        **{d: dimensions.get(d) for d in DIMENSIONS},
    }
    return get_query("public", "overview_kpis").run(con, params).set_index("period")


def assert_same(actual, expected):
    for key, value in expected.items():
        got = actual[key]
        if value is None:
            assert got is None or math.isnan(got), key
        else:
            assert got == pytest.approx(value, rel=1e-9), key


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    city = make_small_city(tmp_path_factory.mktemp("small"))
    publish(city)
    return city


def test_small_city_figures_by_hand(small):
    """Worked by hand from tests/smallcity.py for 1–31 March 2024."""
    period = resolve_period("custom", AS_OF, custom=(dt.date(2024, 3, 1), dt.date(2024, 3, 31)))
    with connect_snapshot(small.public_path) as con:
        current = run_kpis(con, period, AS_OF).loc["current"]
    # public: 1,2,3,4,6,7,8 (5 is a duplicate, 9 is aggregate-only)
    assert current["count_requests"] == 7
    # closed, non-negative: 1 (1 d), 2 (10 d), 7 (2 d), 8 (0.5 d); 6 closed before created
    assert current["median_days_to_close"] == pytest.approx(1.5)
    # eligible: 1, 2, 6, 8 closed with a due date; 3 open and past due; 4 not yet due
    assert current["count_on_time"] == 3 and current["count_on_time_eligible"] == 5
    # open at 1 April 2024 00:00: 3, 4 and 12 (created in January, still open)
    assert current["count_open_at_end"] == 3


@pytest.mark.parametrize("period_key", ["30d", "90d", "365d", "fy"])
@pytest.mark.parametrize(
    "dimensions", [{}, {"department": "Streets"}, {"district": "D2"}, {"channel": "phone"}]
)
def test_small_city_matches_reference(small, period_key, dimensions):
    frame = select(load(small.public_path), **dimensions)
    period = resolve_period(period_key, AS_OF)
    with connect_snapshot(small.public_path) as con:
        kpis = run_kpis(con, period, AS_OF, **dimensions)
    assert_same(kpis.loc["current"], figures(frame, period.start, period.end, AS_OF))
    assert_same(kpis.loc["previous"], figures(frame, period.prev_start, period.start, AS_OF))


@pytest.fixture(scope="module")
def demo_frame(demo_city):
    from civicstat.core.city import load_city

    city = load_city(demo_city)
    with connect_snapshot(city.public_path) as con:
        as_of = con.execute("select as_of from snapshot_info").fetchone()[0]
    return city, load(city.public_path), as_of


@pytest.mark.parametrize("period_key", ["30d", "365d", "fy"])
@pytest.mark.parametrize(
    "dimensions",
    [{}, {"department": "Buildings"}, {"district": "District 4"}, {"channel": "app"},
     {"category": "Noise", "district": "District 1"}],
)
def test_demo_city_matches_reference(demo_frame, period_key, dimensions):
    city, frame, as_of = demo_frame
    period = resolve_period(period_key, as_of, city.fiscal_year_start_month)
    with connect_snapshot(city.public_path) as con:
        kpis = run_kpis(con, period, as_of, **dimensions)
    chosen = select(frame, **dimensions)
    assert kpis.loc["current", "count_requests"] > 0
    assert_same(kpis.loc["current"], figures(chosen, period.start, period.end, as_of))
    assert_same(kpis.loc["previous"], figures(chosen, period.prev_start, period.start, as_of))


@pytest.mark.parametrize("period_key", ["90d", "365d"])
def test_weekly_opened_closed_matches_reference(demo_frame, period_key):
    from metrics_reference import weekly_opened_closed

    city, frame, as_of = demo_frame
    period = resolve_period(period_key, as_of)
    params = {"start": period.start, "end": period.end, **dict.fromkeys(DIMENSIONS)}
    with connect_snapshot(city.public_path) as con:
        weeks = get_query("public", "weekly_opened_closed").run(con, params)
    expected = weekly_opened_closed(select(frame), period.start, period.end)
    got = weeks.iloc[::-1].reset_index(drop=True)  # newest week first = weeks back 0, 1, ...
    assert got["count_opened"].tolist() == expected["count_opened"].tolist()
    assert got["count_closed"].tolist() == expected["count_closed"].tolist()
    assert got["count_days_in_period"].sum() == period.days


def test_district_summary_matches_reference(demo_frame):
    from metrics_reference import district_figures

    city, frame, as_of = demo_frame
    period = resolve_period("90d", as_of)
    params = {"start": period.start, "end": period.end,
              **{d: None for d in DIMENSIONS if d != "district"}}
    with connect_snapshot(city.public_path) as con:
        rows = get_query("public", "district_summary").run(con, params).set_index("district")
    expected = district_figures(select(frame), period.start, period.end, as_of)
    assert set(rows.index) == set(expected)
    for district, figures_expected in expected.items():
        assert_same(rows.loc[district], {
            key: figures_expected[key]
            for key in ("count_requests", "median_days_to_close", "on_time_rate",
                        "count_open_at_end")
        })
