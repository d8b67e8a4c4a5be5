"""The k rule on every public surface (AppTest on the small city, k = 3): tiles say "too few"
where the tables do, one basis per metric on every surface, and no chart, axis, legend or map
reveals a count below k."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.testing.v1 import AppTest

from civicstat.publish.build import publish
from civicstat.web.pages import PAGE_SPECS

import leakcheck
from smallcity import ROWS, make_small_city
from test_support import metric_values, run_public_page

K = 3
PUBLIC_PAGES = [spec.file for spec in PAGE_SPECS if spec.file.startswith("public/")]
MARCH = {"period": "Custom dates", "from": "2024-03-01", "to": "2024-03-31"}
WITHHELD = (f"fewer than {K}", "too few")
# One more Parks request in D4, open and not yet due: D4 and Parks then have 3 requests in March
# but only 1 that was due (request 6) and 1 closed with a time to close (request 7).
EXTRA = [("13", "2024-03-29 08:00", None, "2024-04-15 08:00", "open", None,
          "Parks", "Tree", "D4", 40.17, -74.87, "web")]


def _city(tmp_path_factory, name, rows):
    city = make_small_city(tmp_path_factory.mktemp(name), rows)
    publish(city)
    return city


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    return _city(tmp_path_factory, "privacy-small", ROWS)


@pytest.fixture(scope="module")
def wider_city(tmp_path_factory):
    return _city(tmp_path_factory, "privacy-wider", ROWS + EXTRA)


def _runner(city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(city.root))
    return run_public_page


@pytest.fixture()
def open_small(small_city, monkeypatch):
    return _runner(small_city, monkeypatch)


@pytest.fixture()
def open_wider(wider_city, monkeypatch):
    return _runner(wider_city, monkeypatch)


def tables(app: AppTest) -> list:
    return [frame.value for frame in app.dataframe]


def row_of(app: AppTest, column: str, name: str):
    """The first table row whose `column` is `name`, as {label: text}."""
    for frame in tables(app):
        if column in frame and name in set(frame[column]):
            return frame[frame[column] == name].iloc[0].to_dict()
    raise AssertionError(f"no table with {column} = {name}")


def decks(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.json) for chart in app.get("deck_gl_json_chart")]


def district_tooltips(app: AppTest) -> dict[str, str]:
    choropleth = next(d for d in decks(app) if d["layers"][0]["id"] == "districts")
    return {f["properties"]["name"]: f["properties"]["value"]
            for f in choropleth["layers"][0]["data"]["features"]}


# --- (a) the Overview's tiles say "too few" wherever its tables do ------------------------------

def test_overview_tiles_withhold_what_the_table_withholds(open_small):
    """Parks in March: requests 6 and 7; 1 due (6), 1 closed with a time to close (7)."""
    app = open_small("public/overview.py", **MARCH, department="Parks")
    tiles = metric_values(app)
    parks = row_of(app, "Department", "Parks")
    assert parks["On-time rate"] == "too few"
    assert tiles["On-time rate"] == "too few"  # was "100%"
    assert tiles["Median days to close"] == "too few"  # was "2.0"
    assert tiles["Requests received"] == f"fewer than {K}"
    for label in ("Requests", "On-time rate", "Median days to close"):
        if parks[label] in WITHHELD:
            tile = {"Requests": "Requests received"}.get(label, label)
            assert tiles[tile] == parks[label], label


def test_overview_tiles_show_figures_that_rest_on_enough_requests(open_small):
    app = open_small("public/overview.py", **MARCH)
    tiles = metric_values(app)
    assert tiles["Median days to close"] == "1.5 days"  # 4 closed: 1, 2, 7, 8
    assert tiles["On-time rate"] == "60%"  # 5 due
    # the previous period's median rests on 2 closed requests (10 and 11): no change is given
    median = next(m for m in app.metric if m.label == "Median days to close")
    assert not median.proto.delta


# --- (b) one basis per metric: the same figure reads the same on every surface ----------------

def test_one_basis_per_metric_on_every_surface(open_wider):
    """D4 and Parks in March (with request 13): 3 requests, 1 due, 1 closed with a time."""
    tile_of_district = metric_values(open_wider("public/overview.py", **MARCH, district="D4"))
    tile_of_department = metric_values(
        open_wider("public/overview.py", **MARCH, department="Parks"))
    brief = open_wider("public/districts.py", **MARCH, district="D4")
    brief_tiles = metric_values(brief)
    for metric, label in (("on_time_rate", "On-time rate"),
                          ("median_days_to_close", "Median days to close")):
        overview = open_wider("public/overview.py", **MARCH, map_metric=label)
        district_table = row_of(overview, "District", "D4")[label]
        department_table = row_of(overview, "Department", "Parks")[label] if (
            metric == "on_time_rate") else None
        readings = {
            "overview tile, district D4": tile_of_district[label],
            "overview tile, department Parks": tile_of_department[label],
            "district table": district_table,
            "district map tooltip": district_tooltips(overview)["D4"],
            "district brief tile": brief_tiles[label],
            **({"department table": department_table} if department_table else {}),
        }
        assert set(readings.values()) == {"too few"}, (metric, readings)
    assert tile_of_district["Requests received"] == "3"
    assert brief_tiles["Requests received"] == "3"


# --- the briefing's same period last year and 365-day average: each on its own basis ------------
# Two D1 potholes in March 2023 (the same period a year before March 2024: 2 < k), closed in a
# day; D1's 365 days to 30 March 2024 hold requests 1, 2 and 10 (5 is a duplicate): 3 requests
# a year are 0.25 per 30 days, fewer than k, while their median time to close rests on 3.
LAST_YEAR = [
    (f"ly{n}", f"2023-03-{10 + n} 09:00", f"2023-03-{11 + n} 09:00", f"2023-03-{13 + n} 09:00",
     "closed", "resolved", "Streets", "Pothole", "D1", 40.03, -74.97, "phone") for n in (1, 2)
]


@pytest.fixture()
def open_year(tmp_path_factory, monkeypatch):
    return _runner(_city(tmp_path_factory, "privacy-year", ROWS + LAST_YEAR), monkeypatch)


def test_the_briefing_withholds_last_year_and_the_average_below_k(open_year):
    app = open_year("public/districts.py", **MARCH, district="D1")
    table = app.table[0].value
    requests, median = table.loc["Requests received"], table.loc["Median days to close"]
    assert requests["Same period last year"] == f"fewer than {K}"
    assert requests["365-day average"] == f"fewer than {K}"
    assert median["Same period last year"] == "too few"  # 2 closed
    assert median["365-day average"] == "2.0 days"  # 1, 2 and 10 days
    assert table.loc["Requests per 1,000 residents"]["365-day average"] == "too few"
    assert page_leaks(app) == []


# --- (c) no chart, axis, legend or map reveals a count below k --------------------------------

def page_leaks(app: AppTest) -> list[str]:
    """Every leak check of tests/leakcheck.py over the elements the page sent."""
    elements = []
    for kind in ("plotly_chart", "deck_gl_json_chart", "html", "metric", "dataframe"):
        for node in app.get(kind):
            element = Element()
            getattr(element, kind).CopyFrom(node.proto)
            elements.append(element)
    return leakcheck.elements_leaks(elements, K, rates_rest_on_few=True)


SCENARIOS = [
    ("public/overview.py", {}),
    ("public/overview.py", {"department": "Parks"}),
    ("public/overview.py", {"map_metric": "Open at end of period"}),
    ("public/map.py", {"hex": "250 m"}),
    ("public/map.py", {"hex": "1 km", "map_metric": "On-time rate"}),
    ("public/trends.py", {}),
    ("public/trends.py", {"compare": "Channels", "series": "phone", "grain": "Month"}),
    ("public/districts.py", {"district": "D1"}),
    ("public/districts.py", {"district": "D2", "present": "true"}),
    ("public/lookup.py", {"id": "1"}),
    ("public/lookup.py", {"id": "7"}),
    ("public/open_data.py", {}),
    ("public/about.py", {}),
]


@pytest.mark.parametrize("page, params", SCENARIOS, ids=lambda p: str(p))
def test_no_public_chart_axis_legend_or_map_reveals_a_count_below_k(open_small, page, params):
    app = open_small(page, **MARCH, **params)
    assert page_leaks(app) == []


def test_every_public_page_is_checked():
    assert {page for page, _ in SCENARIOS} == set(PUBLIC_PAGES)


def test_the_leak_checks_catch_what_they_look_for():
    """The checks above are not vacuous: a bar of 2, an axis to 2, a legend "up to 1"."""
    spec = {"data": [{"type": "bar", "orientation": "h", "x": [2, 1], "text": ["2 requests"]}],
            "layout": {"xaxis": {"range": [0, 2]}}}
    assert len(leakcheck.plotly_leaks(spec, K)) == 3
    # a withheld rate with a status colour or words against its goal (issue 13, item 4)
    rates = {"data": [{"type": "bar", "orientation": "h", "x": [None, None],
                       "marker": {"color": ["#009E73", "#D55E00"]},
                       "text": ["too few", "too few ○ off target"]}],
             "layout": {"xaxis": {"tickformat": ".0%"},
                        "annotations": [{"text": "40% ● on target"}]}}
    assert len(leakcheck.plotly_leaks(rates, K, rates_rest_on_few=True)) == 3
    deck = {"layers": [{"id": "density", "data": [
        {"requests": "fewer than 3", "fill": [1, 2, 3]}, {"requests": "fewer than 3",
                                                          "fill": [4, 5, 6]}]}]}
    assert leakcheck.deck_leaks(deck, K)
    assert leakcheck.tile_leaks("Requests received", "2", K)
    assert not leakcheck.tile_leaks("Requests received", "fewer than 3", K)
    sink = pa.BufferOutputStream()
    table = pa.table({"District": ["D1", "D2"], "Requests": ["2", "fewer than 3"],
                      "Median days": ["1.0", "2.0"]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    assert leakcheck.table_leaks(sink.getvalue().to_pybytes(), K) == ["table column Requests: '2'"]
    sink = pa.BufferOutputStream()  # a table of figures by row, as the district briefing's
    table = pa.table({"D1": ["2", "2", "1.5"], "Same period last year": ["fewer than 3", "0", "2"],
                      "Figure": ["Requests received", "Open at end of period",
                                 "Median days to close"]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    assert leakcheck.table_leaks(sink.getvalue().to_pybytes(), K) == [
        "table row Requests received, column D1: '2'",
        "table row Open at end of period, column D1: '2'"]


# --- the rule itself ------------------------------------------------------------------------------

def test_the_rule_and_its_basis_per_figure():
    from civicstat.core import figures, privacy

    assert privacy.FIGURES["on_time_rate"].basis == "count_on_time_eligible"
    assert privacy.FIGURES["median_days_to_close"].basis == "count_with_days_to_close"
    assert privacy.FIGURES["p90_days_to_close"].basis == "count_with_days_to_close"
    assert privacy.FIGURES["requests_per_1000_residents"].basis == "count_requests"
    row = {"on_time_rate": 1.0, "count_on_time_eligible": 1, "count_requests": 9,
           "median_days_to_close": 2.0, "count_with_days_to_close": 0}
    assert figures.cell("on_time_rate", row, K) == "too few"
    assert figures.cell("count_requests", row, K) == "9"
    assert figures.cell("median_days_to_close", row, K) == "2.0 days"  # a basis of 0 is not small
    assert figures.count(2, K) == f"fewer than {K}" and figures.count(0, K) == "0"
    assert privacy.drawn("count_requests", [2, 5, 0], [2, 5, 0], K) == [None, 5.0, 0.0]
    assert privacy.count_breaks([0.5, 1.0, 3.0, 7.5], K) == [3.0, 7.5]
    assert figures.figure_change("on_time_rate", 0.5, 0.9, 10, 2, K) is None
    assert figures.figure_change("on_time_rate", 0.5, 0.9, 10, 5, K) == "-40.0 pts"
    with pytest.raises(KeyError):
        privacy.is_shown("address", 100, K)  # not a public figure


def test_every_figure_a_public_query_returns_comes_with_its_basis(small_city):
    """Each query that returns a figure also returns the count it rests on, and the basis of the
    medians is the requests closed (the days-to-close bands add up to it)."""
    import datetime as dt

    from civicstat.core import privacy
    from civicstat.serve.queries import get_query
    from civicstat.serve.snapshots import connect_snapshot

    when = {"start": dt.datetime(2024, 3, 1), "end": dt.datetime(2024, 4, 1)}
    dims = dict.fromkeys(("department", "district", "category", "request_type", "channel"))
    runs = {
        "overview_kpis": {**when, "prev_start": dt.datetime(2024, 1, 31), **dims},
        "breakdown": {**when, "prev_start": dt.datetime(2024, 1, 31), "group_by": "district",
                      **dims},
        "district_summary": {**when, **{d: None for d in dims if d != "district"}},
        "density_cells": {**when, "cell_km": 0.5, **dims},
        "days_to_close_distribution": {**when, **dims},
        "volume_over_time": {**when, "grain": "week", **dims},
        "weekly_opened_closed": {**when, **dims},
        "weekly_on_time": {**when, **dims},
        "backlog_over_time": {**when, "grain": "day", **dims},
    }
    with connect_snapshot(small_city.public_path) as con:
        results = {name: get_query("public", name).run(con, params) for name, params in runs.items()}
    for name, frame in results.items():
        for column in frame.columns:
            if column in privacy.FIGURES:
                assert privacy.FIGURES[column].basis in frame.columns, (name, column)
    current = results["overview_kpis"].set_index("period").loc["current"]
    assert current["count_with_days_to_close"] == results["days_to_close_distribution"][
        "count_requests"].sum() == 4


def test_the_methodology_states_the_rule_from_the_same_table():
    from civicstat.core import methodology, privacy

    text = "\n".join(methodology.small_numbers(K))
    for label, basis in privacy.basis_table():
        assert f"{label}: {basis}." in text
