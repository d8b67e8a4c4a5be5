"""The public pages' figures that publish-time tables serve (queries/snapshot: daily_flows,
daily_type_flows, open_now, daily_overdue, daily_close_bands, counted_requests, channels,
map_reference) equal an independent pandas computation from the request rows, on the
demo city and on an "edge" city: the demo city with information-only calls, requests closed
with no closed time or before they were created, times exactly at midnight, reopened requests,
due dates before creation and missing dimensions mixed in."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import duckdb
import pandas as pd
import pytest

from civicstat.core.city import load_city
from civicstat.core.filters import DIMENSIONS, resolve_period
from civicstat.publish.build import publish
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot, read_info

import metrics_reference as ref

EDGE_CASES = [  # applied to the store in turn, each to a pseudo-random slice of the requests
    "update requests set flags = list_append(coalesce(flags, []), 'information_only') "
    "where hash(request_id) % 37 = 0",
    "update requests set closed_at = null where status = 'closed' and hash(request_id) % 41 = 1",
    "update requests set closed_at = created_at - interval 3 hour "
    "where status = 'closed' and hash(request_id) % 43 = 2",
    "update requests set closed_at = created_at "
    "where status = 'closed' and hash(request_id) % 47 = 3",
    "update requests set due_at = created_at - interval 2 day where hash(request_id) % 53 = 4",
    "update requests set due_at = null where hash(request_id) % 59 = 5",
    "update requests set created_at = date_trunc('day', created_at) "
    "where hash(request_id) % 61 = 6",
    "update requests set closed_at = date_trunc('day', closed_at) + interval 1 day "
    "where status = 'closed' and closed_at is not null and hash(request_id) % 67 = 7",
    "update requests set due_at = date_trunc('day', due_at) "
    "where due_at is not null and hash(request_id) % 71 = 8",
    "update requests set closed_at = due_at "
    "where status = 'closed' and due_at > created_at and hash(request_id) % 73 = 9",
    "update requests set district = null where hash(request_id) % 79 = 10",
    "update requests set channel = null where hash(request_id) % 83 = 11",
    "update requests set category = null where hash(request_id) % 89 = 12",
    "update requests set status = 'open', closure = null "
    "where status = 'closed' and hash(request_id) % 97 = 13",
]


@pytest.fixture(scope="module")
def edge_city(demo_city, tmp_path_factory):
    root = tmp_path_factory.mktemp("edge")
    shutil.copy(demo_city / "city.toml", root / "city.toml")
    shutil.copytree(demo_city / "boundaries", root / "boundaries")
    shutil.copy(demo_city / "store.duckdb", root / "store.duckdb")
    with duckdb.connect(str(root / "store.duckdb")) as con:
        for statement in EDGE_CASES:
            con.execute(statement)
    publish(load_city(root))
    return root


@pytest.fixture(scope="module", params=["demo", "edge"])
def city(request, demo_city, edge_city):
    root = demo_city if request.param == "demo" else edge_city
    con = connect_snapshot(root / "build" / "public.duckdb")
    info = read_info(con)
    raw = con.execute("select * from requests").df()
    yield con, info, raw
    con.close()


def run(con, name, **params):
    query = get_query("public", name)
    declared = {p.name for p in query.params}
    return query.run(con, {**{d: None for d in DIMENSIONS if d in declared}, **params})


def periods(info) -> list:
    """The page periods, plus custom ones: in the past from a Wednesday, over the start of the
    data, running past its end, and a single day."""
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    chosen = [resolve_period(key, as_of, int(info["fiscal_year_start_month"]))
              for key in ("30d", "90d", "365d", "fy")]
    day = as_of.date()
    for first, last in [
        (dt.date(2023, 3, 1), dt.date(2023, 5, 9)),
        (dt.date(2022, 6, 1), dt.date(2022, 8, 15)),
        (day - dt.timedelta(days=40), day + dt.timedelta(days=60)),
        (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
    ]:
        chosen.append(resolve_period("custom", as_of, custom=(first, last)))
    return chosen


def some_filters(raw) -> list[dict]:
    def busiest(column):
        return raw[column].value_counts().index[0]

    return [
        {},
        {"district": busiest("district")},
        {"department": busiest("department")},
        {"channel": busiest("channel")},
        {"request_type": busiest("request_type"), "district": busiest("district")},
        {"category": busiest("category"), "channel": busiest("channel")},
    ]


def close(actual, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or pd.isna(actual)
    return actual == pytest.approx(expected, rel=1e-9)


def test_days_to_close_bands_match_the_reference(city):
    con, info, raw = city
    for period in periods(info):
        for filters in some_filters(raw):
            bands = run(con, "days_to_close_distribution", start=period.start, end=period.end,
                        **filters)
            expected = ref.days_to_close_bands(ref.select(raw, **filters), period.start,
                                               period.end)
            assert bands["count_requests"].tolist() == expected, (period.label, filters)
            total = sum(expected)
            shares = [c / total if total else None for c in expected]
            assert all(close(a, e) for a, e in zip(bands["share_of_closed"], shares, strict=True))


@pytest.mark.parametrize("grain", ["day", "week"])
def test_backlog_over_time_matches_the_reference(city, grain):
    con, info, raw = city
    for period in periods(info):
        for filters in some_filters(raw)[:4]:
            backlog = run(con, "backlog_over_time", grain=grain, start=period.start,
                          end=period.end, **filters)
            expected = ref.backlog(ref.select(raw, **filters), period.start, period.end, grain)
            got = list(zip(backlog["counted_at"], backlog["count_open"],
                           backlog["count_overdue"], strict=True))
            assert got == expected, (period.label, filters)
            last_moment = backlog["counted_at"] - pd.Timedelta(microseconds=1)
            assert (pd.to_datetime(backlog["last_day"]) == last_moment.dt.normalize()).all()


@pytest.mark.parametrize("grain", ["week", "month"])
def test_volume_and_the_same_weeks_a_year_earlier_match_the_reference(city, grain):
    con, info, raw = city
    for period in periods(info):
        for filters in some_filters(raw)[:4]:
            volume = run(con, "volume_over_time", grain=grain, start=period.start,
                         end=period.end, **filters)
            expected = ref.volume(ref.select(raw, **filters), period.start, period.end, grain)
            got = list(zip([pd.Timestamp(b).date() for b in volume["bucket_start"]],
                           volume["count_requests"], volume["count_requests_last_year"],
                           strict=True))
            assert got == expected, (period.label, filters)


def test_open_data_summary_matches_the_reference(city):
    con, info, raw = city
    for period in periods(info):
        for filters in some_filters(raw):
            summary = run(con, "open_data_summary", start=period.start, end=period.end,
                          **filters)
            chosen = raw
            for column, value in filters.items():
                chosen = chosen[chosen[column] == value]
            expected = ref.records_by_type(chosen, period.start, period.end)
            got = {row.request_type: (row.count_records, row.count_with_location)
                   for row in summary.itertuples()}
            assert got == expected, (period.label, filters)
            assert summary["count_records"].is_monotonic_decreasing


@pytest.mark.parametrize("group_by", ["department", "request_type", "category", "channel",
                                      "district"])
def test_breakdown_matches_the_reference(city, group_by):
    con, info, raw = city
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    for period in periods(info):
        for filters in some_filters(raw)[:3]:
            rows = run(con, "breakdown", group_by=group_by, start=period.start, end=period.end,
                       prev_start=period.prev_start, **filters).set_index("group_value")
            expected = ref.breakdown(ref.select(raw, **filters), group_by, period.start,
                                     period.end, period.prev_start, as_of)
            assert set(rows.index) == set(expected), (period.label, filters)
            for value, figures in expected.items():
                row = rows.loc[value]
                for key in ("count_requests", "count_requests_previous", "count_open_at_end"):
                    assert row[key] == figures[key], (period.label, filters, value, key)
                for key in ("median_days_to_close", "on_time_rate"):
                    assert close(row[key], figures[key]), (period.label, filters, value, key)


def test_overview_figures_for_past_and_future_periods_match_the_reference(city):
    """The Overview's figures when days after the period have flows (open at its end is then
    open now less what changed since)."""
    con, info, raw = city
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    for period in periods(info):
        for filters in some_filters(raw):
            kpis = run(con, "overview_kpis", start=period.start, end=period.end,
                       prev_start=period.prev_start, **filters).set_index("period")
            chosen = ref.select(raw, **filters)
            for name, (start, end) in {"current": (period.start, period.end),
                                       "previous": (period.prev_start, period.start)}.items():
                expected = ref.figures(chosen, start, end, as_of)
                for key, value in expected.items():
                    assert close(kpis.loc[name, key], value), (period.label, filters, name, key)


def test_district_summary_for_past_periods_matches_the_reference(city):
    con, info, raw = city
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    for period in periods(info):
        rows = run(con, "district_summary", start=period.start,
                   end=period.end).set_index("district")
        expected = ref.district_figures(ref.select(raw), period.start, period.end, as_of)
        for district, figures in expected.items():
            for key in ("count_requests", "median_days_to_close", "on_time_rate",
                        "count_open_at_end"):
                assert close(rows.loc[district, key], figures[key]), (period.label, district, key)


@pytest.mark.parametrize("cell_km", [0.25, 1.0])
def test_density_cells_match_the_reference(city, cell_km):
    con, info, raw = city
    ref_lat = con.execute("select ref_lat from map_reference").fetchone()[0]
    for period in periods(info)[:3]:
        for filters in some_filters(raw)[:2]:
            cells = run(con, "density_cells", cell_km=cell_km, start=period.start,
                        end=period.end, **filters)
            expected = ref.hexagon_cells(ref.select(raw, **filters), period.start, period.end,
                                         cell_km, ref_lat)
            got = {(row.q, row.r): (row.count_requests, row.median_days_to_close)
                   for row in cells.itertuples()}
            assert set(got) == set(expected), (period.label, filters)
            for key, (count, median) in expected.items():
                assert got[key][0] == count and close(got[key][1], median), (period.label, key)


def test_map_reference_is_the_districts_centre(city):
    con, _, _ = city
    ref_lat, centre = con.execute(
        "select ref_lat, (select avg(center_lat) from districts) from map_reference"
    ).fetchone()
    assert ref_lat == centre


def test_filter_options_offer_every_channel(city):
    con, _, raw = city
    options = run(con, "filter_options")
    channels = set(options.loc[options["dimension"] == "channel", "value"])
    assert channels == set(raw["channel"].dropna())


def test_daily_tables_add_up_to_the_request_rows(city):
    """Every table counts each request once (per day of creation or change)."""
    con, info, raw = city
    scoped = ref.select(raw)
    assert con.execute("select sum(count_created) from daily_flows").fetchone()[0] == len(scoped)
    assert con.execute("select sum(count_created), sum(count_closed) from daily_type_flows"
                       ).fetchone() == con.execute(
        "select sum(count_created), sum(count_closed) from daily_flows").fetchone()
    assert con.execute("select count(*) from counted_requests").fetchone()[0] == len(scoped)
    assert con.execute("select sum(count_closed) from daily_close_bands").fetchone()[0] == len(
        ref.days_to_close(scoped))
    never_closed = scoped["status"] != "closed"
    assert con.execute("select sum(count_open), sum(count_open_with_due_at) from open_now"
                       ).fetchone() == (int(never_closed.sum()),
                                        int((never_closed & scoped["due_at"].notna()).sum()))
    assert con.execute(
        "select sum(count_became_overdue - count_stopped_overdue) from daily_overdue"
    ).fetchone()[0] == int((never_closed & scoped["due_at"].notna()).sum())
