"""The pages on a 390 px phone and at 1366 px, in Chromium, measured by their element boxes
(issue 13, items 6 and 7), one server for the module: nothing runs off the side of the screen or
is cut (segmented controls, KPI tiles), the menu closes once a page is chosen, the backlog's
legend leaves its largest bar clear, and no public page asks any host but the app's own for
anything (the favicon included). Screenshots of every public page at both widths go to
test-artifacts/<page>-<width>.png."""

from __future__ import annotations

import time
import urllib.parse

import pytest

from civicstat.web.pages import PAGE_SPECS

from browser_support import ARTIFACTS, chromium, serve_app, submit_sign_in, wait_for_app
from test_browser_staff import write_secrets

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
PUBLIC_PATHS = [spec.url_path for spec in PAGE_SPECS
                if spec.min_role == "anonymous" and spec.max_role == "admin"]
RARE_TYPE = "Compliment"  # fewer than 10 in the demo's last 90 days: its tiles read "fewer than 10"

# Boxes that stick out past the right edge of the screen, of elements not inside a box that
# scrolls or clips them (a wide table scrolls in its own frame: that is not the page overflowing).
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      if (p.matches('[data-testid="stMain"]')) return false;
      const o = getComputedStyle(p).overflowX; if (o !== 'visible') return true; }
    return false; };
  return [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 0 && r.height > 0 && r.right > width + 1 && !clipped(e); })
    .map(e => (e.getAttribute('data-testid') || e.tagName) + ': ' +
              (e.innerText || '').trim().slice(0, 40)).slice(0, 10);
}"""
CUT_TEXT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p,' +
    ' [data-testid="stButtonGroup"] > div:has(> button)')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.innerText || '').trim().slice(0, 40))"""

# A segmented control whose buttons wrap onto more than one row: every button drawn whole, with
# its left and right borders (a row's buttons share borders, a wrapped one lost them).
BROKEN_BORDERS = """() => [...document.querySelectorAll('[data-testid="stButtonGroup"]')]
  .filter(g => new Set([...g.querySelectorAll('button')]
                       .map(b => Math.round(b.getBoundingClientRect().top))).size > 1)
  .flatMap(g => [...g.querySelectorAll('button')])
  .filter(b => { const c = getComputedStyle(b);
    return [c.borderLeftColor, c.borderRightColor].some(x => x === 'rgba(0, 0, 0, 0)') ||
           c.borderLeftWidth === '0px' || c.borderRightWidth === '0px'; })
  .map(b => b.innerText.trim())"""

@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def app_url(demo_city, browser, tmp_path_factory):
    secrets = write_secrets(tmp_path_factory.mktemp("phone-secrets"))
    with serve_app(demo_city, {"STREAMLIT_SECRETS_FILES": str(secrets)}) as url:
        yield url


def settle(page) -> None:
    page.wait_for_selector("h1", timeout=60_000)
    wait_for_app(page)
    time.sleep(0.5)  # a rerun the first run triggers (URL-bound widgets) starts within this
    wait_for_app(page)


def draw_everything(page) -> None:
    """Scroll every chart and map into view (a canvas is painted, and its base map asked for,
    only once seen), then back to the top."""
    for selector in ('[data-testid="stDeckGlJsonChart"] canvas', ".js-plotly-plot"):
        for index in range(page.locator(selector).count()):
            page.locator(selector).nth(index).scroll_into_view_if_needed(timeout=30_000)
            time.sleep(0.3)
    time.sleep(1.0)


def screenshot(page, name: str, width: int) -> None:
    """The whole page (Streamlit scrolls inside its own container) as name-width.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    viewport = page.viewport_size
    page.set_viewport_size({"width": width, "height": max(viewport["height"], height)})
    time.sleep(1.0)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(viewport)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_public_pages_ask_no_other_host_and_fit_the_screen(browser, app_url, viewport):
    own = urllib.parse.urlsplit(app_url).netloc
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    hosts: dict[str, set[str]] = {}
    current = {"path": ""}
    page.on("request", lambda request: hosts.setdefault(current["path"], set()).add(
        urllib.parse.urlsplit(request.url).netloc or request.url.split(":", 1)[0]))
    problems = []
    try:
        for path in PUBLIC_PATHS:
            current["path"] = path
            page.goto(f"{app_url}/{path}")
            settle(page)
            draw_everything(page)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            overflow = page.evaluate(
                "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                " return m.scrollWidth - m.clientWidth; }")
            if overflow > 1:
                problems.append((path, "the page scrolls sideways", overflow))
            if sticking_out := page.evaluate(OVERFLOWING):
                problems.append((path, "past the right edge", sticking_out))
            if cut := page.evaluate(CUT_TEXT):
                problems.append((path, "cut off", cut))
            if broken := page.evaluate(BROKEN_BORDERS):
                problems.append((path, "buttons wrapped without their borders", broken))
            screenshot(page, path or "overview", viewport["width"])
        # a KPI tile whose figure is withheld reads "fewer than 10" in full, not "fewer tha…"
        current["path"] = "overview, a rare type"
        page.goto(f"{app_url}/?request_type={RARE_TYPE}")
        settle(page)
        values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert "fewer than 10" in values  # the case is there to measure
        if cut := page.evaluate(CUT_TEXT):
            problems.append(("overview, a rare type", "cut off", cut))
    finally:
        context.close()
    others = {path: sorted(found - {own, "data", "blob"}) for path, found in hosts.items()}
    assert {path: found for path, found in others.items() if found} == {}
    assert problems == []


def test_the_menu_closes_after_choosing_a_page_on_a_phone(browser, app_url):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sidebar = page.locator('[data-testid="stSidebar"]')
    try:
        page.goto(app_url)
        settle(page)
        assert sidebar.get_attribute("data-collapsed") == "true"  # a phone starts without it
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getAttribute('data-collapsed') === 'false'")
        page.locator('[data-testid="stSidebarNav"] a', has_text="Trends").click()
        page.wait_for_url("**/trends**")
        settle(page)
        page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getAttribute('data-collapsed') === 'true'", timeout=10_000)
        box = sidebar.bounding_box()
        assert box is None or box["x"] + box["width"] <= 1, "the menu still covers the page"
    finally:
        context.close()


BAR_BOXES = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const bars = [...plot.querySelectorAll('g.trace.bars path')].map(box)
    .filter(b => b.right - b.left > 0);
  const rows = {};
  for (const b of bars) { const y = Math.round((b.top + b.bottom) / 2);
    (rows[y] = rows[y] || []).push(b); }
  const largest = Object.values(rows).sort((a, b) =>
    b.reduce((s, r) => s + r.right - r.left, 0) - a.reduce((s, r) => s + r.right - r.left, 0))[0];
  return {legend: box(plot.querySelector('g.legend')), largest: largest};
}"""


def test_the_backlog_legend_leaves_the_largest_bar_clear_on_a_phone(browser, app_url):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/account")
        settle(page)
        submit_sign_in(page, "sam", "staff password 1")
        page.goto(f"{app_url}/backlog")
        settle(page)
        page.wait_for_selector(".js-plotly-plot g.trace.bars path", timeout=120_000)
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        boxes = page.evaluate(BAR_BOXES)
        legend = boxes["legend"]
        assert boxes["largest"], "the bars are drawn"
        overlaps = [bar for bar in boxes["largest"]
                    if bar["left"] < legend["right"] and legend["left"] < bar["right"]
                    and bar["top"] < legend["bottom"] and legend["top"] < bar["bottom"]]
        assert overlaps == [], (legend, boxes["largest"])
        page.locator(".js-plotly-plot").first.screenshot(path=str(ARTIFACTS / "backlog-390.png"))
    finally:
        context.close()
