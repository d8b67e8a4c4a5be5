"""The public pages in a real browser, one server for the module: charts and maps drawn,
axe-core finds no serious or critical violation and headings in order, downloads work,
screenshots are saved, and nothing private reaches the browser, even with hostile URL
parameters."""

from __future__ import annotations

import csv
import re
import urllib.parse

import duckdb
import pytest

from civicstat.core.schema import PUBLIC_COLUMN_NAMES

from browser_support import (
    ARTIFACTS,
    axe_violations,
    chromium,
    full_screenshot,
    serve_app,
    wait_for_app,
    wait_for_charts,
    wait_settled,
)

pytestmark = pytest.mark.browser

# url path -> (plotly charts, deck.gl maps) each page draws with the default filters
PAGES = {
    "": (3, 1),
    "map": (0, 2),
    "trends": (3, 0),
    "districts": (1, 1),
    "open-data": (0, 0),
    "about": (0, 0),
    "lookup": (0, 0),
}
HOSTILE = {
    "department": '<script>document.title="pwned"</script>',
    "district": '"><img src=x onerror="document.title=\'pwned\'">',
    "request_type": "'; drop table requests; --",
    "period": "<b>custom</b>",
    "series": "<svg onload=alert(1)>",
}


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def app_url(demo_city, browser):
    with serve_app(demo_city) as url:
        yield url


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)  # the page's title: its script is running
    wait_for_app(page)
    # A deep link to a public page opens it, with no "Page not found" dialog (pages live in
    # views/, not pages/, so Streamlit's older multipage router never sees them).
    assert page.locator('[data-testid="stDialog"]', has_text="Page not found").count() == 0


@pytest.mark.parametrize("path", list(PAGES))
def test_page_draws_passes_axe_and_is_screenshot(page, app_url, path):
    plotly, decks = PAGES[path]
    open_page(page, f"{app_url}/{path}")
    wait_for_charts(page, plotly=plotly, decks=decks)
    assert page.locator('[data-testid="stException"]').count() == 0
    wait_settled(page)
    violations = axe_violations(page, impacts=("moderate", "serious", "critical"))
    assert [v for v in violations if v["impact"] != "moderate"] == [], violations
    # headings in order (h1, then h2 sections, then h3), so a screen reader's outline is right
    assert [v for v in violations if v["id"] == "heading-order"] == [], violations
    shot = full_screenshot(page, f"public-{path or 'overview'}")
    assert shot.stat().st_size > 30_000
    assert page.errors == []


@pytest.mark.parametrize("path", ["", "districts"])
def test_readable_at_390_px(browser, app_url, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        open_page(page, f"{app_url}/{path}")
        wait_for_charts(page, plotly=PAGES[path][0])
        overflow = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth"
            " - document.querySelector('[data-testid=\"stMain\"]').clientWidth"
        )
        assert overflow <= 1, "the page scrolls sideways at 390 px"
        full_screenshot(page, f"public-{path or 'overview'}-390px")
    finally:
        context.close()


def test_district_presentation_mode_and_pdf_download(page, app_url):
    open_page(page, f"{app_url}/districts?district=District%205&present=true")
    wait_for_charts(page, plotly=1, decks=1)
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector("
        "'[data-testid=\"stMetricValue\"] > div')).fontSize)"
    )
    # 3.2rem (51 px, from 36 px): large, and the six tiles still fit a 1366×768 projector's
    # first screen (tests/test_browser_briefing.py)
    assert size >= 48, "presentation mode shows the figures in large type"
    full_screenshot(page, "public-districts-presentation")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download brief (PDF)").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "district-brief.pdf").write_bytes(pdf)


def test_open_data_csv_download(page, app_url):
    """The link opens a tab that downloads the file (web/open_data_route.py), named for the
    period's first and last day; the filters of the page are the file's."""
    open_page(page, f"{app_url}/open-data?period=Last+30+days&department=Transportation")
    with page.context.expect_event("download", timeout=60_000) as download:
        page.get_by_role("link", name="Download CSV").click()
    assert re.fullmatch(r"requests-\d{8}-\d{8}\.csv", download.value.suggested_filename)
    with download.value.path().open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(PUBLIC_COLUMN_NAMES)
    assert len(rows) > 10
    department = rows[0].index("department")
    assert {row[department] for row in rows[1:]} == {"Transportation"}


def test_keyboard_reaches_filters_controls_and_show_the_data(page, app_url):
    open_page(page, f"{app_url}/trends")
    wait_for_charts(page, plotly=3)
    reached = []
    for _ in range(25):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => { const e = document.activeElement;"
            " return [e.tagName, e.getAttribute('aria-label') || (e.innerText || '').trim()"
            ".slice(0, 30)]; }"
        ))
    labels = [label for _, label in reached]
    assert {"Period", "Department", "Request type", "District", "Channel"} <= set(labels)
    assert "Week" in labels and "All requests" in labels  # the chart's controls
    assert [tag for tag, _ in reached].count("SUMMARY") >= 3  # every "show the data" table
    summary = page.locator("details summary").first
    summary.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("details[open] [data-testid='stDataFrame']")


def private_needles(demo_city) -> list[str]:
    """Strings that exist only in internal.duckdb: every street of an address (an address cannot
    leak without its street), every description and every resolution note of some length."""
    with duckdb.connect(str(demo_city / "build" / "internal.duckdb"), read_only=True) as con:
        streets = [r[0] for r in con.execute(
            "select distinct regexp_replace(address, '^[0-9]+[A-Za-z]? ', '') from requests "
            "where address is not null").fetchall()]
        texts = [r[0] for r in con.execute(
            "select distinct description from requests where length(description) >= 16 union "
            "select distinct resolution from requests where length(resolution) >= 16"
        ).fetchall()]
    return sorted({s for s in streets if len(s) >= 6} | set(texts))


def test_nothing_private_reaches_the_browser(browser, app_url, demo_city):
    needles = private_needles(demo_city)
    assert len(needles) > 100 and any("<script>" in n for n in needles)
    hostile = urllib.parse.urlencode(HOSTILE)
    received: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()

    def watch(ws):
        ws.on("framereceived", lambda payload: received.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "ignore")))

    page.on("websocket", watch)
    try:
        for path in PAGES:
            for query in ("", f"?{hostile}"):
                open_page(page, f"{app_url}/{path}{query}")
                # every table's data is in the frames already, opened or not
                received.append(page.content())
                assert page.title() != "pwned"
                assert page.locator("img[src=x], svg[onload]").count() == 0
    finally:
        context.close()
    seen = "\n".join(received)
    assert len(seen) > 100_000 and "Missed Trash Pickup" in seen, "pages and frames collected"
    # a needle can only be in the text if all its words are: a cheap filter before the search
    words = set(re.findall(r"\w+", seen))
    candidates = [n for n in needles if set(re.findall(r"\w+", n)) <= words]
    leaked = [needle for needle in candidates if needle in seen]
    assert leaked == []
