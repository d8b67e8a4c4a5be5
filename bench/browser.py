"""Time until each page has finished drawing in Chromium, and the bytes the server sent for it.

Public pages are loaded in a fresh tab. Staff pages are reached as staff reach them: signed in
with a built-in account, then chosen in the Staff menu (a reload would end a built-in sign-in),
so their time runs from the click until the new page has finished drawing.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from browser_support import browser_page, serve_app, submit_sign_in, wait_for_app  # noqa: E402

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


def measure_staff_pages(city_dir: Path, url_paths: list[str], repeats: int = 3) -> dict[str, dict]:
    """{url path: {seconds, ws_bytes, http_bytes, via}} for staff pages: median of `repeats`
    sessions, each signing in as an admin (a throwaway built-in account) and opening every page
    from the Staff menu in turn."""
    from civicstat.accounts.passwords import hash_password

    password = secrets.token_urlsafe(16)
    runs: dict[str, list[dict]] = {path: [] for path in url_paths}
    with tempfile.TemporaryDirectory(prefix="civicstat-bench-") as folder:
        secrets_file = Path(folder) / "secrets.toml"
        secrets_file.write_text(
            f'[civicstat.users.bench]\nrole = "admin"\npassword_hash = "{hash_password(password)}"\n',
            encoding="utf-8",
        )
        with serve_app(city_dir, {"STREAMLIT_SECRETS_FILES": str(secrets_file)}) as url:
            for _ in range(repeats):
                with browser_page() as (page, errors):
                    counts = _count_traffic(page)
                    page.goto(url + "/account")
                    wait_for_app(page, timeout=120_000)
                    submit_sign_in(page, "bench", password, timeout=60_000)
                    for path in url_paths:
                        runs[path].append(_one_menu_visit(page, path, counts, errors))
    results = {}
    for path, visits in runs.items():
        visits.sort(key=lambda r: r["seconds"])
        results[path] = {**visits[len(visits) // 2], "via": "Staff menu, signed in"}
    return results


def _one_menu_visit(page, path: str, counts: dict, errors: list) -> dict:
    """Choose `path` in the Staff menu; time until its page has finished drawing."""
    before = page.inner_text('[data-testid="stMain"] h1')
    page.get_by_text("Staff", exact=True).first.click()
    link = page.locator(f'a[href$="/{path}"]').first
    link.wait_for(timeout=30_000)
    counts.update(ws_bytes=0, http_bytes=0)
    started = time.perf_counter()
    link.click()
    page.wait_for_function(  # the new page's title, then the run finished and nothing stale
        """(before) => {
          const h1 = document.querySelector('[data-testid="stMain"] h1');
          return h1 && h1.innerText !== before;
        }""", arg=before, timeout=120_000)
    wait_for_app(page, timeout=120_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=120_000)
    page.wait_for_function(DRAWN, timeout=120_000)
    page.wait_for_timeout(200)  # let the last websocket frames be counted
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **counts, "errors": len(errors)}


def _count_traffic(page) -> dict:
    """Bytes received over the websocket and over HTTP, counted as they arrive (reset by
    setting the counts to 0)."""
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
    return counts


def _one_load(url: str) -> dict:
    with browser_page() as (page, errors):
        counts = _count_traffic(page)
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("h1", timeout=120_000)  # the script has started drawing
        wait_for_app(page, timeout=120_000)
        page.wait_for_function(DRAWN, timeout=120_000)
        page.wait_for_timeout(200)  # let the last websocket frames be counted
        seconds = time.perf_counter() - started
        return {"seconds": seconds, **counts, "errors": len(errors)}
