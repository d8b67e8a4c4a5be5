"""Commitments and newsletter images in a real browser, on a demo city with the demo generator's
commitments: screenshots of the Commitments page, a scorecard with its Commitments column and the
district briefing as staff (test-artifacts/issue15-*.png); the same briefing to a visitor shows no
commitment; a public chart's PNG downloaded through Plotly's own button."""

from __future__ import annotations

import io
import re
import time

import pytest

from civicstat.accounts.passwords import hash_password
from civicstat.core.city import load_city
from civicstat.demo.commitments import record_demo_commitments
from civicstat.demo.generator import build_demo
from civicstat.publish.build import publish

from browser_support import ARTIFACTS, browser_page, serve_app, submit_sign_in, wait_for_app

pytestmark = pytest.mark.browser
PASSWORD = "staff password 1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("promised")
    build_demo(root, rows=60_000)
    publish(load_city(root))
    judged = record_demo_commitments(load_city(root))
    secrets = root / "secrets.toml"
    secrets.write_text(f'[civicstat]\nidle_timeout_minutes = 30\n\n[civicstat.users.sam]\n'
                       f'role = "staff"\npassword_hash = "{hash_password(PASSWORD)}"\n',
                       encoding="utf-8")
    with serve_app(root, {"STREAMLIT_SECRETS_FILES": str(secrets)}) as url:
        yield url, judged


def settle(page, seconds: float = 1.0) -> None:
    wait_for_app(page)
    time.sleep(seconds)
    wait_for_app(page)


def screenshot(page, name: str, width: int = 1600) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, height)})
    time.sleep(1.5)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})


def go(page, path: str) -> None:
    page.get_by_text("Staff", exact=True).first.click()
    page.locator(f'a[href$="/{path}"]').first.click()
    settle(page)


def test_staff_pages_show_commitments(served):
    url, judged = served
    with browser_page(1600, 1000) as (page, errors):
        page.goto(url + "/account")
        settle(page)
        submit_sign_in(page, "sam", PASSWORD)
        go(page, "commitments")
        screenshot(page, "issue15-commitments")
        tiles = " | ".join(page.locator('[data-testid="stMetric"]').all_inner_texts())
        for status, label in (("met", "Met"), ("missed", "Missed"), ("on_track", "On track"),
                              ("at_risk", "At risk")):
            count = sum(j.status == status for j in judged)  # the table is a canvas: tiles are text
            assert count and re.search(rf"{label}\s+{count}(\s|$)", tiles), (label, tiles)
        text = page.inner_text("body")
        assert f"{len(judged)} commitments." in text
        screenshot(page, "issue15-commitments")
        go(page, "scorecards")
        page.get_by_role("heading", name="Commitments", exact=True).wait_for()
        screenshot(page, "issue15-scorecard-commitments")
        page.get_by_text("Public", exact=True).first.click()
        page.locator('a[href$="/districts"]').first.click()
        settle(page)
        page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
        page.keyboard.type("District 4")
        page.keyboard.press("Enter")
        settle(page, 2.0)
        assert "Commitments in District 4 (staff only)" in page.inner_text("body")
        screenshot(page, "issue15-district-briefing-staff")
        assert not errors


def test_visitor_briefing_has_no_commitments_and_chart_png_downloads(served):
    url, _ = served
    with browser_page(1400, 1000) as (page, errors):
        page.goto(url + "/districts?district=District+4")
        settle(page, 2.0)
        text = page.inner_text("body")
        assert "service requests briefing" in text and "Commitments" not in text
        page.goto(url + "/")
        settle(page, 2.0)
        page.locator('[data-testid="stPlotlyChart"]').first.hover()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="Download plot as a PNG").first.click()
        path = ARTIFACTS / "issue15-chart-download.png"
        download.value.save_as(str(path))
        from PIL import Image

        image = Image.open(io.BytesIO(path.read_bytes()))
        assert image.format == "PNG" and image.size[0] == 2400  # 1,200 CSS pixels at scale 2
        assert download.value.suggested_filename.startswith("riverton-requests-opened-and-closed")
        assert not errors
