"""The district briefing at a meeting and "Look up my request", in Chromium on the demo city (issue
13, items 10 and 11): on a 1366×768 projector, presentation mode shows every KPI tile within the
first screen and draws the chart's labels in large type; the briefing shows the dates of both
periods; the look-up page fits a 390 px phone. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from civicstat.serve.snapshots import connect_snapshot

from browser_support import (
    ARTIFACTS,
    chromium,
    full_screenshot,
    serve_app,
    wait_for_app,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1366, "height": 768}
BRIEFING = "/districts?district=District%203&period=Last+30+days"


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def app_url(demo_city, browser):
    with serve_app(demo_city) as url:
        yield url


def open_at(browser, url: str, viewport: dict, **options):
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)
    wait_for_app(page)
    return context, page


def tile_boxes(page) -> list[dict]:
    tiles = page.locator('[data-testid="stMetric"]')
    return [tiles.nth(i).bounding_box() for i in range(tiles.count())]


def tick_font_size(page) -> float:
    """The font size of the first y-axis tick label of the first Plotly chart (SVG text)."""
    return page.evaluate(
        """() => parseFloat(getComputedStyle(
               document.querySelector('.js-plotly-plot .ytick text')).fontSize)"""
    )


def test_presentation_mode_fits_the_kpis_on_a_projector_and_enlarges_the_chart(browser, app_url):
    context, page = open_at(browser, app_url + BRIEFING + "&present=true", PROJECTOR)
    try:
        wait_for_charts(page, plotly=1)
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        boxes = tile_boxes(page)
        assert len(boxes) == 6, boxes
        for box in boxes:
            assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"], boxes
        value_size = page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector("
            "'[data-testid=\"stMetricValue\"] > div')).fontSize)"
        )
        assert value_size >= 40, "the figures are in large type"
        large = tick_font_size(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "districts-presentation-1366x768.png"))
    finally:
        context.close()
    context, page = open_at(browser, app_url + BRIEFING, PROJECTOR)
    try:
        wait_for_charts(page, plotly=1)
        normal = tick_font_size(page)
        body = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "districts-1366x768.png"))
        full_screenshot(page, "districts-1366-full")
    finally:
        context.close()
    assert large >= 1.5 * normal, (large, normal)
    assert "This period" in body and "Previous period" in body
    assert "Same period last year" in body and "365-day average" in body


def a_request(demo_city) -> tuple[str, str]:
    """(request_id, request type) of a closed public request of the most common type."""
    with connect_snapshot(demo_city / "build" / "public.duckdb") as con:
        return con.execute(
            """select request_id, request_type from requests
               where status = 'closed' and request_type = (
                   select request_type from requests group by all order by count(*) desc limit 1)
               order by request_id limit 1"""
        ).fetchone()


@pytest.mark.parametrize("width", [1366, 390])
def test_lookup_page_shows_a_request_and_fits_the_screen(browser, app_url, demo_city, width):
    request_id, request_type = a_request(demo_city)
    context, page = open_at(browser, f"{app_url}/lookup?id={request_id}",
                            {"width": width, "height": 844 if width == 390 else 900},
                            device_scale_factor=2 if width == 390 else 1)
    try:
        body = page.inner_text("body")
        assert f"Request number {request_id}" in body and request_type in body
        assert "Half of the requests like this are closed within" in body
        overflow = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth"
            " - document.querySelector('[data-testid=\"stMain\"]').clientWidth"
        )
        assert overflow <= 1, "the page scrolls sideways"
        full_screenshot(page, f"public-lookup-{width}px")
    finally:
        context.close()
