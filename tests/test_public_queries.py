"""The public pages' queries against direct computations on the demo city (60,000 requests)."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pandas as pd
import pytest

from civicstat.core.filters import DIMENSIONS, resolve_period
from civicstat.core.schema import PUBLIC_COLUMN_NAMES
from civicstat.exports import opendata
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot, read_info


@pytest.fixture(scope="module")
def demo(demo_city):
    con = connect_snapshot(demo_city / "build" / "public.duckdb")
    info = read_info(con)
    period = resolve_period("90d", pd.Timestamp(info["as_of"]).to_pydatetime())
    raw = con.execute("select * from requests").df()
    yield con, info, period, raw
    con.close()


def run(con, name, **params):
    """Run a public query; dimension filters default to none, for queries that take them."""
    query = get_query("public", name)
    declared = {p.name for p in query.params}
    return query.run(con, {**{d: None for d in DIMENSIONS if d in declared}, **params})


def in_period(raw, period, *, duplicates=False):
    rows = raw[(raw["created_at"] >= period.start) & (raw["created_at"] < period.end)]
    return rows if duplicates else rows[rows["closure"].fillna("") != "duplicate"]


@pytest.mark.parametrize("cell_km", [0.25, 1.0])
def test_density_cells_count_every_located_request_once(demo, cell_km):
    con, _, period, raw = demo
    cells = run(con, "density_cells", cell_km=cell_km, start=period.start, end=period.end)
    located = in_period(raw, period).dropna(subset=["lat", "lon"])
    assert 0 < len(cells) <= 50_000
    assert cells["count_requests"].sum() == len(located)
    assert not cells.duplicated(["q", "r"]).any()
    # neighbouring hexagon centres are sqrt(3) * cell_km apart: the grid is regular
    ref = math.cos(math.radians(cells["ref_lat"].iloc[0]))
    x = cells["center_lon"] * 111.320 * ref
    y = cells["center_lat"] * 110.574
    a, b = cells.iloc[0], cells.iloc[1:]
    distances = ((x.iloc[1:] - x.iloc[0]) ** 2 + (y.iloc[1:] - y.iloc[0]) ** 2) ** 0.5
    assert distances.min() == pytest.approx(math.sqrt(3) * cell_km, rel=1e-6)
    assert a["count_requests"] >= b["count_requests"].max()  # busiest first


def test_density_cells_never_exceed_50000_rows():
    assert "limit 50000" in get_query("public", "density_cells").sql


@pytest.mark.parametrize("grain", ["day", "week"])
def test_backlog_over_time_equals_a_direct_count(demo, grain):
    con, _, period, raw = demo
    backlog = run(con, "backlog_over_time", grain=grain, start=period.start, end=period.end)
    scoped = raw[raw["closure"].fillna("") != "duplicate"]
    closed = scoped["status"] == "closed"
    for row in backlog.iloc[[0, len(backlog) // 2, -1]].itertuples():
        moment = row.counted_at
        open_now = (scoped["created_at"] < moment) & ~(
            closed & (scoped["closed_at"].isna() | (scoped["closed_at"] < moment))
        )
        assert row.count_open == open_now.sum(), moment
        assert row.count_overdue == (open_now & (scoped["due_at"] < moment)).sum(), moment
    assert backlog["counted_at"].iloc[-1] == period.end


@pytest.mark.parametrize("grain", ["week", "month"])
def test_volume_over_time_and_the_same_weeks_a_year_earlier(demo, grain):
    con, _, period, raw = demo
    volume = run(con, "volume_over_time", grain=grain, start=period.start, end=period.end)
    assert volume["count_requests"].sum() == len(in_period(raw, period))
    shift = dt.timedelta(days=364) if grain == "week" else None
    scoped = raw[raw["closure"].fillna("") != "duplicate"]
    row = volume.iloc[len(volume) // 2]  # a whole bucket
    start = pd.Timestamp(row["bucket_start"])
    end = start + (pd.Timedelta(days=7) if grain == "week" else pd.DateOffset(months=1))
    if shift is not None:
        before = scoped[(scoped["created_at"] >= start - shift) & (scoped["created_at"] < end - shift)]
        # weeks are counted back from the end of the period, as on the Overview
        assert (pd.Timestamp(period.end) - start).days % 7 == 0
    else:
        before = scoped[(scoped["created_at"] >= start - pd.DateOffset(years=1))
                        & (scoped["created_at"] < end - pd.DateOffset(years=1))]
    assert row["count_requests_last_year"] == len(before)


def test_days_to_close_bands_cover_every_closed_request(demo):
    con, _, period, raw = demo
    bands = run(con, "days_to_close_distribution", start=period.start, end=period.end)
    rows = in_period(raw, period)
    closed = rows[(rows["status"] == "closed") & (rows["closed_at"] >= rows["created_at"])]
    assert bands["count_requests"].sum() == len(closed)
    assert bands["share_of_closed"].sum() == pytest.approx(1.0)
    days = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    assert bands.loc[0, "count_requests"] == (days < 1).sum()


def test_breakdown_by_department_adds_up_to_the_city(demo):
    con, _, period, _ = demo
    params = {"start": period.start, "end": period.end, "prev_start": period.prev_start}
    departments = run(con, "breakdown", group_by="department", **params)
    city = run(con, "overview_kpis", **params).set_index("period").loc["current"]
    assert departments["count_requests"].sum() == city["count_requests"]
    assert departments["count_on_time"].sum() == city["count_on_time"]
    assert departments["count_open_at_end"].sum() == city["count_open_at_end"]


def test_open_data_records_hold_public_columns_only(demo):
    con, _, period, raw = demo
    records = run(con, "open_data_records", max_rows=100_000, start=period.start, end=period.end)
    assert tuple(records.columns) == PUBLIC_COLUMN_NAMES
    assert len(records) == len(in_period(raw, period, duplicates=True))
    assert (records["closure"] == "duplicate").any(), "records keep duplicates, marked"
    capped = run(con, "open_data_records", max_rows=10, start=period.start, end=period.end)
    assert len(capped) == 10
    csv = opendata.to_file(records.head(50), "csv").decode("utf-8-sig")
    assert csv.splitlines()[0] == ",".join(PUBLIC_COLUMN_NAMES)
    parquet = opendata.to_file(records.head(50), "parquet")
    back = pd.read_parquet(pd.io.common.BytesIO(parquet))
    assert list(back.columns) == list(PUBLIC_COLUMN_NAMES) and len(back) == 50


def test_aggregate_only_types_appear_only_as_city_wide_counts(demo, demo_city):
    con, info, period, raw = demo
    catalog = run(con, "request_type_catalog")
    hidden = set(catalog.loc[catalog["privacy_tier"] == "aggregate_only", "request_type"])
    assert hidden, "the demo city has aggregate-only types"
    assert not hidden & set(raw["request_type"])
    options = run(con, "filter_options")
    assert not hidden & set(options["value"])
    totals = run(con, "aggregate_only_totals", start=period.start, end=period.end)
    assert set(totals["request_type"]) == hidden
    with duckdb.connect(str(demo_city / "build" / "internal.duckdb"), read_only=True) as internal:
        expected = internal.execute(
            "select count(*) from requests where request_type in (select unnest($types)) "
            "and closure is distinct from 'duplicate' "
            "and created_at >= date_trunc('month', $start::timestamp) and created_at < $end",
            {"types": sorted(hidden), "start": period.start, "end": period.end},
        ).fetchone()[0]
    assert totals["count_requests"].sum() == expected
