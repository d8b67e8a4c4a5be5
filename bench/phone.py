"""A resident's first visit on a phone, through the proxy: the Overview (`/`) at 390 px on a
9 Mbps / 60 ms network (Chromium's network emulation over CDP), then the same visit again with
the browser's cache warm.

For each way of serving (one Streamlit process alone; `civicstat serve`, nginx in front of
two, over http; the same over https and HTTP/2, as a server terminating TLS serves, where
browsers also accept brotli), and each visit: bytes over the wire (HTTP bodies and headers as
received, compressed where the server compressed them, plus websocket frames), seconds from
navigation to the first KPI value shown, and to the first chart drawn (a plotly trace on screen).

    .venv/bin/python -m bench.phone --city bench/work/1000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from browser_support import CHROMIUM_ARGS, chromium_path  # noqa: E402

# Chromium DevTools' "Fast 4G": 9 Mbps down, 1.5 Mbps up, 60 ms latency.
NETWORK = {"offline": False, "latency": 60, "downloadThroughput": 9_000_000 / 8,
           "uploadThroughput": 1_500_000 / 8}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True}
KPI = '[data-testid="stMetricValue"]'
CHART = ".js-plotly-plot .main-svg g.trace path, .js-plotly-plot .main-svg g.trace rect"


def _visit(page, cdp, url: str) -> dict:
    counts = {"http_bytes": 0, "ws_bytes": 0, "requests": 0, "cached": 0, "br": 0, "gzip": 0}

    def on_finished(event):
        counts["http_bytes"] += int(event.get("encodedDataLength", 0))
        counts["requests"] += 1

    def on_cached(_event):
        counts["cached"] += 1

    def on_response(event):
        headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
        encoding = headers.get("content-encoding", "")
        if encoding in ("br", "gzip"):
            counts[encoding] += 1

    def on_frame(event):
        payload = event["response"]["payloadData"]
        binary = event["response"].get("opcode") == 2
        counts["ws_bytes"] += len(payload) * 3 // 4 if binary else len(payload.encode())

    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.requestServedFromCache", on_cached)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    cdp.on("Network.responseReceived", on_response)
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_selector(KPI, state="visible", timeout=180_000)
    kpi = time.perf_counter() - started
    page.wait_for_selector(CHART, state="attached", timeout=180_000)
    chart = time.perf_counter() - started
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(1000)  # the last frames and requests are counted
    cdp.remove_listener("Network.loadingFinished", on_finished)
    cdp.remove_listener("Network.requestServedFromCache", on_cached)
    cdp.remove_listener("Network.webSocketFrameReceived", on_frame)
    cdp.remove_listener("Network.responseReceived", on_response)
    total = counts["http_bytes"] + counts["ws_bytes"]
    return {"first_kpi_s": kpi, "chart_s": chart, "bytes": total, **counts}


def measure(url: str, repeats: int = 3, trust_spki: str | None = None) -> dict:
    """{first: {...}, repeat: {...}}: medians over `repeats` fresh browsers (first visit, then
    the same page again in the same browser, its cache warm). `trust_spki`: the base64 SHA-256
    of a self-signed certificate's key, trusted as a real certificate would be (Chromium keeps
    nothing in its cache from a site with a certificate error)."""
    from playwright.sync_api import sync_playwright

    runs: dict[str, list[dict]] = {"first": [], "repeat": []}
    with sync_playwright() as playwright:
        for _ in range(repeats):
            trust = [f"--ignore-certificate-errors-spki-list={trust_spki}"] if trust_spki else []
            browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                 args=CHROMIUM_ARGS + trust)
            try:
                context = browser.new_context(**PHONE)
                for visit in ("first", "repeat"):
                    page = context.new_page()
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", NETWORK)
                    runs[visit].append(_visit(page, cdp, url + "/"))
                    page.close()
            finally:
                browser.close()
    return {visit: {key: statistics.median(run[key] for run in values) for key in values[0]}
            for visit, values in runs.items()}


@contextlib.contextmanager
def _proxy(city: Path, workers: int = 2, tls: bool = False):
    """`civicstat serve` on a free port; with `tls`, https and HTTP/2 on a throwaway
    self-signed certificate (browsers send brotli only over https)."""
    import subprocess
    import tempfile

    from bench.load import free_port
    from civicstat.cli.serve import Stack

    with tempfile.TemporaryDirectory(prefix="civicstat-phone-") as folder:
        pair = None
        if tls:
            pair = (Path(folder) / "cert.pem", Path(folder) / "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(pair[1]), "-out", str(pair[0])],
                           check=True, capture_output=True)
        stack = Stack(city=city, workers=workers, port=free_port(), address="127.0.0.1", tls=pair)
        try:
            stack.start()
            yield f"{'https' if tls else 'http'}://127.0.0.1:{stack.port}", _spki(pair)
        finally:
            stack.stop()


def run_phone(city: Path, repeats: int = 3) -> dict:
    from bench.load import serve

    results = {"network": "9 Mbps down, 1.5 Mbps up, 60 ms; 390 x 844 px at 3x",
               "rows": _rows(city)}
    with serve(city) as server:
        results["direct"] = measure(server.url, repeats)
    with _proxy(city) as (url, _):
        results["proxy"] = measure(url, repeats)
    with _proxy(city, tls=True) as (url, spki):
        results["proxy_tls"] = measure(url, repeats, trust_spki=spki)
    return results


def _spki(pair: tuple[Path, Path] | None) -> str | None:
    """base64(SHA-256(the certificate's public key)), as Chromium's SPKI list wants it."""
    if pair is None:
        return None
    import base64
    import hashlib
    import subprocess

    key = subprocess.run(["openssl", "pkey", "-in", str(pair[1]), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(key).digest()).decode()


def _rows(city: Path) -> int | None:
    import duckdb

    with contextlib.suppress(duckdb.Error):
        with duckdb.connect(str(city / "build" / "public.duckdb"), read_only=True) as con:
            return con.execute("select count(*) from requests").fetchone()[0]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", required=True, help="a published city folder")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(run_phone(Path(args.city), args.repeats), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
