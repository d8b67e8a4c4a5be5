"""The Overview in a real browser: the plotly traces and the deck.gl map are drawn."""

from __future__ import annotations

import pytest

from browser_support import (
    browser_page,
    deck_canvas_colours,
    full_screenshot,
    serve_app,
    wait_for_app,
    wait_for_plotly_traces,
)

pytestmark = pytest.mark.browser


def test_overview_draws_chart_and_map(demo_city):
    with serve_app(demo_city) as url, browser_page() as (page, errors):
        page.goto(url + "/")
        wait_for_app(page)
        wait_for_plotly_traces(page)
        assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 2
        assert deck_canvas_colours(page) > 5, "the district map did not draw"
        assert page.get_by_text("Requests received").count() == 1
        shot = full_screenshot(page, "overview")
        assert shot.stat().st_size > 50_000
        assert errors == []
