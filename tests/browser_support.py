"""Run the app in a real Streamlit server and drive it with Debian's Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"
if str(PROJECT) not in sys.path:  # the benchmark package (bench/) holds the server launcher
    sys.path.insert(0, str(PROJECT))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """/usr/bin/chromium; skipped when absent, a failure in CI."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Chromium not found (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    return path


def free_port() -> int:
    from bench.load import free_port as bench_free_port

    return bench_free_port()


@contextlib.contextmanager
def serve_app(city_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `streamlit run app.py` for a city on a free port (bench.load.serve, the same
    launcher the benchmark uses); yield its base URL. The server log goes to test-artifacts/."""
    from bench.load import serve

    with serve(city_dir, extra_env=extra_env, log_dir=ARTIFACTS) as server:
        yield f"http://127.0.0.1:{server.port}"


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A fresh Chromium page; yields (page, console_errors)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, errors
        finally:
            browser.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Until the script has finished running (no 'running' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def submit_sign_in(page, name: str, password: str, timeout: float = 30_000) -> None:
    """On the open staff sign-in page: sign in with a built-in account, until "Your account"."""
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your account").wait_for(timeout=timeout)


def wait_for_plotly_traces(page, timeout: float = 30_000) -> None:
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace path", timeout=timeout)


def deck_canvas_colours(page, timeout: float = 30_000) -> int:
    """Wait for the deck.gl canvas, screenshot it, return how many distinct colours it shows."""
    from PIL import Image

    canvas = page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    colours = 0
    while time.monotonic() < deadline:
        image = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
        colours = len(image.getcolors(maxcolors=1_000_000) or [])
        if colours > 5:
            break
        time.sleep(0.5)
    return colours


def full_screenshot(page, name: str) -> Path:
    """Screenshot the whole app (Streamlit scrolls inside its own container)."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
    )
    page.set_viewport_size({"width": page.viewport_size["width"], "height": max(900, height)})
    time.sleep(1.0)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def chromium():
    """One Chromium for a whole test module (pages from `new_page`)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_charts(page, plotly: int = 0, decks: int = 0, timeout: float = 60_000) -> None:
    """Until `plotly` plotly charts have drawn their traces and `decks` deck.gl canvases show
    something (each scrolled into view: the browser may not paint a canvas it cannot see)."""
    if plotly:
        page.wait_for_function(
            """n => [...document.querySelectorAll('.js-plotly-plot')]
                   .filter(p => p.querySelector('g.trace path, g.trace rect, g.point path'))
                   .length >= n""",
            arg=plotly, timeout=timeout,
        )
    for index in range(decks):
        canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').nth(index)
        canvas.scroll_into_view_if_needed(timeout=timeout)
        assert canvas_colours(canvas, timeout) > 5, f"map {index + 1} did not draw"


def canvas_colours(canvas, timeout: float = 30_000) -> int:
    """How many distinct colours a canvas shows, once it shows more than five."""
    from PIL import Image

    deadline = time.monotonic() + timeout / 1000
    colours = 0
    while time.monotonic() < deadline:
        image = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
        colours = len(image.getcolors(maxcolors=1_000_000) or [])
        if colours > 5:
            break
        time.sleep(0.5)
    return colours


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core (bundled by axe-playwright-python) on the page: violations of those impacts,
    each as {id, impact, help, targets}."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v["impact"] in impacts
    ]


def wait_settled(page, timeout: float = 30_000) -> None:
    """Until no element is faded as stale and the page's styles are applied (captions opaque):
    what axe measures (colour contrast) then is what a person sees."""
    page.wait_for_function(
        """() => !document.querySelector('[data-stale="true"]') &&
                 [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                   .every(e => getComputedStyle(e).opacity === '1')""",
        timeout=timeout,
    )
    time.sleep(0.3)
