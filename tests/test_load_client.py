"""The load-test client (bench/load.py) and the publish-under-load check (bench/swap.py) against
real Streamlit servers on the tiny city: real websocket sessions, no browser needed."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

import pytest

from civicstat.publish.build import publish

from smallcity import make_small_city

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # bench/ is not a package on pytest's path
    sys.path.insert(0, str(PROJECT))

from bench.load import StreamlitSession, load_async, serve, visit  # noqa: E402
from bench.swap import figure, run_swap  # noqa: E402


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("loadcity")
    publish(make_small_city(root))
    return root


@pytest.fixture(scope="module")
def server(small_city):
    with serve(small_city, log_dir=small_city.parent) as running:
        yield running


def test_three_sessions_open_and_change_filters(server):
    result = asyncio.run(load_async(server, sessions=3, changes=2, think=0.1, ramp=0.3,
                                    rss_interval=0.5))
    assert result["errors"] == 0, result["error_samples"]
    assert result["cold_open_ok"]
    assert result["interactions"] == 3 * (1 + 2)
    assert result["by_kind"]["open"]["ok"] == 3
    assert result["by_kind"]["filter"]["ok"] == 6
    assert result["p50_s"] > 0 and result["p95_s"] >= result["p50_s"]
    assert result["rss_samples"] and result["rss_peak_mb"] > 50


def test_session_renders_the_overview_and_follows_the_filters(server):
    async def scenario() -> dict:
        session = StreamlitSession(server.ws_url)
        await session.connect()
        try:
            opened = await session.open()
            assert opened.ok, opened.error
            assert session.last.page == "Overview"
            assert "Requests received" in session.last.texts
            assert {"period", "department"} <= set(session.widgets)
            everything = figure(session)
            await session.change("department", "Streets")
            streets = figure(session)
            assert "department=Streets" in session.query_string  # the filter is in the URL
            await session.change("department", None)
            return {"all": everything, "streets": streets, "again": figure(session)}
        finally:
            await session.close()

    shown = asyncio.run(scenario())
    assert shown["all"] is not None and shown["all"] > 0
    assert 0 < shown["streets"] < shown["all"]
    assert shown["again"] == shown["all"]


def test_a_shared_url_opens_with_its_filters(server):
    async def scenario() -> tuple:
        plain = await visit(server.ws_url, random.Random(1), changes=0)
        session = StreamlitSession(server.ws_url, query_string="period=Last+30+days&department=Streets")
        await session.connect()
        try:
            await session.open()
            return plain, session.widgets["period"].value, session.widgets["department"].value
        finally:
            await session.close()

    plain, period, department = asyncio.run(scenario())
    assert plain[0].ok
    assert (period, department) == ("Last 30 days", "Streets")


def test_two_processes_pick_up_a_published_snapshot_without_failed_renders(tmp_path):
    city = tmp_path / "city"
    publish(make_small_city(city))
    result = run_swap(city, sessions=2, change=1, settle=1.0, scratch_dir=tmp_path / "scratch")
    assert not result["failed_renders"], result["failed_renders"]
    assert result["renders_during_publish"] > 0
    assert result["version_after"] != result["version_before"]
    assert result["picked_up"] == {"A": True, "B": True}, (
        f"shown before {result['figure_before']}, after {result['figure_after']}, "
        f"expected {result['figure_expected_after']}"
    )
    assert result["stale_renders_after_publish"] == 0
    assert result["ok"]
