"""Time until each page has finished drawing in Chromium, and the bytes the server sent for it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from browser_support import browser_page, serve_app, wait_for_app  # noqa: E402

DRAWN = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const plotsDrawn = plots.every(p => p.querySelector('.main-svg'));
  const decks = [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')];
  const decksDrawn = decks.every(d => d.querySelector('canvas'));
  return plotsDrawn && decksDrawn;
}"""


def measure_pages(city_dir: Path, url_paths: list[str], repeats: int = 3) -> dict[str, dict]:
    """{url path: {seconds, ws_bytes, http_bytes}}: median of repeats, each in a fresh tab."""
    results: dict[str, dict] = {}
    with serve_app(city_dir) as url:
        for path in url_paths:
            runs = [_one_load(url + "/" + path) for _ in range(repeats)]
            runs.sort(key=lambda r: r["seconds"])
            results[path or "/"] = runs[len(runs) // 2]
    return results


def _one_load(url: str) -> dict:
    with browser_page() as (page, errors):
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        counts = {"ws_bytes": 0, "http_bytes": 0}

        def on_frame(event):
            payload = event["response"]["payloadData"]
            binary = event["response"].get("opcode") == 2
            counts["ws_bytes"] += len(payload) * 3 // 4 if binary else len(payload.encode())

        def on_finished(event):
            counts["http_bytes"] += int(event.get("encodedDataLength", 0))

        cdp.on("Network.webSocketFrameReceived", on_frame)
        cdp.on("Network.loadingFinished", on_finished)
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("h1", timeout=120_000)  # the script has started drawing
        wait_for_app(page, timeout=120_000)
        page.wait_for_function(DRAWN, timeout=120_000)
        page.wait_for_timeout(200)  # let the last websocket frames be counted
        seconds = time.perf_counter() - started
        return {"seconds": seconds, **counts, "errors": len(errors)}
