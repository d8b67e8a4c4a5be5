"""AppTest of the Overview page: figures on screen, filters from the URL, hostile parameters."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from civicstat.publish.build import publish

from smallcity import make_small_city
from test_support import APP, metric_values


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    city = make_small_city(tmp_path_factory.mktemp("small"))
    publish(city)
    return city


@pytest.fixture()
def app(small_city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(small_city.root))
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(APP), default_timeout=30)


def test_overview_shows_the_four_figures(app):
    app.query_params["period"] = "Custom dates"
    app.query_params["from"] = "2024-03-01"
    app.query_params["to"] = "2024-03-31"
    app.run()
    assert not app.exception
    values = metric_values(app)
    assert values["Requests received"] == "7"
    assert values["Median days to close"] == "1.5 days"
    assert values["On-time rate"] == "60%"
    assert values["Open at end of period"] == "3"
    assert any("Smallville" in e.value for e in [*app.title, *app.caption])


def test_department_filter_from_the_url(app):
    app.query_params["period"] = "Custom dates"
    app.query_params["from"] = "2024-03-01"
    app.query_params["to"] = "2024-03-31"
    app.query_params["department"] = "Streets"
    app.run()
    assert not app.exception
    # Streets, March: 1, 2 and 4 (5 is a duplicate)
    assert metric_values(app)["Requests received"] == "3"


@pytest.mark.parametrize(
    "name, value",
    [
        ("period", "<script>alert(1)</script>"),
        ("department", "'; drop table requests; --"),
        ("district", "../../etc/passwd"),
        ("from", "not-a-date"),
        ("map_metric", "description"),
    ],
)
def test_hostile_url_parameters_are_ignored(app, name, value):
    app.query_params[name] = value
    app.run()
    assert not app.exception
    assert len(metric_values(app)) == 4


def test_no_published_data_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(tmp_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert "civicstat publish" in app.error[0].value


def test_demo_overview_tiles_equal_the_reference(demo_city, monkeypatch):
    """The figures a visitor reads on / equal an independent pandas computation."""
    from civicstat.core.filters import resolve_period

    from metrics_reference import figures, load, select

    monkeypatch.setenv("CIVICSTAT_CITY", str(demo_city))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    from civicstat.serve.snapshots import connect_snapshot, read_info

    snapshot = demo_city / "build" / "public.duckdb"
    frame = select(load(snapshot))
    with connect_snapshot(snapshot) as con:
        as_of = read_info(con)["as_of"].to_pydatetime()
    period = resolve_period("90d", as_of)
    expected = figures(frame, period.start, period.end, as_of)
    shown = metric_values(app)
    assert shown["Requests received"] == f"{expected['count_requests']:,}"
    assert shown["Median days to close"] == f"{expected['median_days_to_close']:.1f} days"
    assert shown["On-time rate"] == f"{expected['on_time_rate']:.0%}"
    assert shown["Open at end of period"] == f"{expected['count_open_at_end']:,}"
