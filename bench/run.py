"""`make bench`: measure CivicStat at 1M, 10M and 50M requests and write bench/RESULTS.md.

    .venv/bin/python -m bench.run [--sizes 1000000,10000000] [--skip load,soak,...]

Parts (each can be skipped): build (publish per size, timed; a size not generated or published
yet is built whatever is skipped), queries (each page's query set, warm and cold, with the scan
limit), browser (Chromium draw time and bytes at 10M, staff pages too), phone (a first and a
repeat visit of / at 390 px on 9 Mbps / 60 ms, alone and through `civicstat serve`, at 10M),
memory (app RSS per size), baseline (pandas at 10M), ingest (5M-row NYC CSV), load (50 websocket
sessions at 10M), soak (10 minutes), swap (two app processes during a publish), proxy (through
`civicstat serve` at 10M: 100 sessions on 1 vs 2 app processes, one process killed under load,
a publish under load; bench/proxy.py), crashes (kill -9
at random points of ingest and publish, 20 times each, 300,000 requests), churn (ingest and
publish for 10 minutes while 30 sessions use the app and download open data), delta (a day's
10,000 requests loaded into a copy of each size's city: ingest plus incremental publish, checked
against a full publish).
Generated cities live in bench/work/ (git-ignored) and are reused when already built.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
WORK = PROJECT / "bench" / "work"
RESULTS = PROJECT / "bench" / "RESULTS.md"
RAW = PROJECT / "bench" / "results.json"
DEFAULT_SIZES = (1_000_000, 10_000_000, 50_000_000)
PARTS = ("build", "queries", "browser", "phone", "memory", "baseline", "ingest", "load", "soak",
         "swap", "proxy", "crashes", "churn", "delta")


def city_for(rows: int, results: dict, *, publish_again: bool = True) -> Path:
    """bench/work/<rows>: built with the demo generator unless already built at that size, then
    published (and the publish timed) unless `publish_again` is False and it has snapshots."""
    from civicstat.core.city import load_city
    from civicstat.demo.generator import build_demo
    from civicstat.publish.build import publish

    root = WORK / str(rows)
    entry = results.setdefault("build", {}).setdefault(str(rows), {})
    if not _built_with(root, rows):
        started = time.perf_counter()
        build_demo(root, rows=rows)
        entry["generate_s"] = time.perf_counter() - started
    if publish_again or not (root / "build" / "public.duckdb").exists():
        started = time.perf_counter()
        publish(load_city(root))
        entry["publish_s"] = time.perf_counter() - started
    return root


def _built_with(root: Path, rows: int) -> bool:
    import duckdb

    store = root / "store.duckdb"
    if not store.exists():
        return False
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            return con.execute("select count(*) from requests").fetchone()[0] == rows
    except duckdb.Error:
        return False


def measure_queries(root: Path, rows: int, results: dict) -> None:
    from bench import baseline, querysets
    from civicstat.serve.queries import get_query
    from civicstat.serve.snapshots import connect_snapshot

    sets = querysets.record_page_queries(root)
    build = root / "build"
    with connect_snapshot(build / "internal.duckdb") as con:
        table_columns = [r[0] for r in con.execute("describe requests").fetchall()]
    pages = {}
    for page, query_set in sets.items():
        warm = querysets.summarise(querysets.time_warm(build, query_set))
        cold_runs = querysets.cold_runs(build, query_set, repeats=3)
        cold = querysets.summarise([r["seconds"] for r in cold_runs])
        cold["peak_rss_mb"] = max(r["peak_rss_mb"] for r in cold_runs)
        access = {a for a, _, _ in query_set}
        sql = [get_query(a, n).sql for a, n, _ in query_set]
        columns = baseline.columns_read(sql, table_columns)
        snapshot = build / ("internal.duckdb" if "internal" in access else "public.duckdb")
        scan = baseline.scan_seconds(snapshot, columns) * 1000
        pages[page] = {
            "queries": len(query_set), "warm": warm, "cold": cold,
            "scan_ms": scan, "columns": columns,
            "ratio_to_scan": warm["median_ms"] / scan if scan else None,
        }
    results.setdefault("queries", {})[str(rows)] = pages


def measure_memory(root: Path, rows: int, results: dict) -> None:
    """Serve the city to 10 websocket sessions (Overview, two filter changes each) and read
    the server's peak RSS (VmHWM) and its RSS afterwards."""
    from bench import load

    outcome = load.run_load(root, sessions=10, changes=2)
    results.setdefault("memory", {})[str(rows)] = {
        "peak_rss_mb": outcome.get("rss_peak_hwm_mb"),
        "rss_mb": outcome.get("server_rss_after_mb"),
        "errors": outcome.get("errors"),
    }


def write_results(results: dict) -> None:
    from bench.report import render

    RAW.write_text(json.dumps(results, indent=2, default=str))
    RESULTS.write_text(render(results))


def machine() -> dict:
    mem_kb = int(next(line.split()[1] for line in open("/proc/meminfo")
                      if line.startswith("MemTotal")))
    return {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--skip", default="", help=f"comma-separated parts of {PARTS}")
    parser.add_argument("--soak-seconds", type=int, default=600)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    skip = set(filter(None, args.skip.split(",")))
    results = json.loads(RAW.read_text()) if RAW.exists() else {}
    results["machine"] = machine()
    ten_million = 10_000_000 if 10_000_000 in sizes or not sizes else sizes[min(1, len(sizes) - 1)]

    for rows in sizes:
        print(f"== {rows:,} requests", flush=True)
        root = city_for(rows, results, publish_again="build" not in skip)
        if "queries" not in skip:
            measure_queries(root, rows, results)
        if "memory" not in skip:
            measure_memory(root, rows, results)
        if rows == ten_million:
            _ten_million_parts(root, rows, skip, args, results)
        if "delta" not in skip:
            from bench import delta

            results.setdefault("delta", {})[str(rows)] = delta.run_delta(
                rows, verify=rows <= 10_000_000, results=results)
        write_results(results)
    if "ingest" not in skip:
        from bench import ingest_speed

        results["ingest"] = ingest_speed.measure(5_000_000, source="nyc")
    if "crashes" not in skip:
        from bench import crashes

        results["crashes"] = crashes.run(rows=300_000, trials=20)
    if "churn" not in skip:
        from bench import churn

        results["churn"] = churn.run_churn(seconds=600, sessions=30, rows=300_000)
    write_results(results)
    print(f"wrote {RESULTS.relative_to(PROJECT)}")
    return 0


def _ten_million_parts(root: Path, rows: int, skip: set, args, results: dict) -> None:
    results["reference_rows"] = rows
    if "browser" not in skip:
        from bench import browser
        from civicstat.web.pages import PAGE_SPECS

        paths = [s.url_path for s in PAGE_SPECS if s.min_role == "anonymous"]
        results["browser"] = browser.measure_pages(root, paths)
        staff = [s.url_path for s in PAGE_SPECS if s.min_role != "anonymous" and s.url_path != "account"]
        results["browser"].update(browser.measure_staff_pages(root, staff))
    if "phone" not in skip:
        from bench import phone

        results["phone"] = phone.run_phone(root)
    if "baseline" not in skip:
        from bench import baseline

        results["baseline"] = baseline.run_baseline(root / "build" / "internal.duckdb")
    if "load" not in skip:
        from bench import load

        results["load"] = load.run_load(root, sessions=50)
    if "soak" not in skip:
        from bench import load

        results["soak"] = load.run_soak(root, seconds=args.soak_seconds)
    if "swap" not in skip:
        from bench import swap

        results["swap"] = swap.run_swap(root)
    if "proxy" not in skip:
        from bench import proxy

        results["proxy"] = proxy.run_proxy(root)


if __name__ == "__main__":
    raise SystemExit(main())
