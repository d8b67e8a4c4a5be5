"""Render bench/results.json as bench/RESULTS.md: tables, then each target met or missed."""

from __future__ import annotations


def _ms(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _mb(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def render(r: dict) -> str:
    m = r.get("machine", {})
    out = [
        "# CivicStat benchmark results",
        "",
        f"Measured {m.get('date')} on {m.get('cores')} cores, {m.get('memory_gb')} GB memory "
        f"({m.get('cpu')}), Python {m.get('python')}, by `make bench` (`python -m bench.run`).",
        "Data: the demo city generator (`civicstat demo --rows N`, seed 311). Times are wall "
        "clock; \"warm\" = DuckDB's buffers warm and CivicStat's result cache bypassed (a "
        "repeated view is served from st.cache_data and costs well under 1 ms); \"cold\" = a "
        "fresh process opening the snapshot, as the first render after the app starts.",
        "",
    ]
    out += _build(r) + _queries(r) + _browser(r) + _memory(r) + _baseline(r) + _ingest(r)
    out += _load(r) + _soak(r) + _swap(r) + _targets(r)
    return "\n".join(out) + "\n"


def _build(r):
    rows = r.get("build", {})
    if not rows:
        return []
    out = ["## Building and publishing", "", "| requests | generate (s) | publish (s) |",
           "|---:|---:|---:|"]
    for size, e in sorted(rows.items(), key=lambda kv: int(kv[0])):
        gen = e.get("generate_s")
        out.append(f"| {int(size):,} | {'reused' if gen is None else f'{gen:.0f}'} | "
                   f"{e.get('publish_s', 0):.1f} |")
    return out + [""]


def _queries(r):
    sizes = r.get("queries", {})
    if not sizes:
        return []
    out = ["## Each page's query set (one render)", "",
           "| requests | page | queries | warm median (ms) | warm p95 (ms) | cold median (ms) "
           "| cold p95 (ms) | full scan of its columns (ms) | warm ÷ scan |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size, pages in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        for page, e in pages.items():
            ratio = e.get("ratio_to_scan")
            out.append(
                f"| {int(size):,} | {page} | {e['queries']} | {_ms(e['warm']['median_ms'])} | "
                f"{_ms(e['warm']['p95_ms'])} | {_ms(e['cold']['median_ms'])} | "
                f"{_ms(e['cold']['p95_ms'])} | {_ms(e['scan_ms'])} | "
                f"{'–' if ratio is None else f'{ratio:.2f}'} |"
            )
    return out + [""]


def _browser(r):
    pages = r.get("browser")
    if not pages:
        return []
    out = [f"## In Chromium at {r.get('reference_rows', 0):,} requests", "",
           "Time from navigation until the page has finished drawing (script done, every plotly "
           "chart and deck.gl canvas present); bytes the server sent over the websocket for "
           "the render, and over HTTP (Streamlit's static files, the same for every page and "
           "cached by the browser after the first visit). Median of 3 loads in a fresh tab.", "",
           "| page | seconds | websocket bytes | HTTP bytes |", "|---|---:|---:|---:|"]
    for path, e in pages.items():
        out.append(f"| {path} | {e['seconds']:.2f} | {e['ws_bytes']:,} | {e['http_bytes']:,} |")
    return out + [""]


def _memory(r):
    sizes = r.get("memory")
    if not sizes:
        return []
    out = ["## App process memory while serving", "",
           "| requests | peak RSS (MB) | RSS after (MB) |", "|---:|---:|---:|"]
    for size, e in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        out.append(f"| {int(size):,} | {_mb(e.get('peak_rss_mb'))} | {_mb(e.get('rss_mb'))} |")
    return out + [""]


def _baseline(r):
    b = r.get("baseline")
    q = r.get("queries", {}).get(str(r.get("reference_rows")), {})
    if not b:
        return []
    out = [f"## Against the usual approach at {r.get('reference_rows', 0):,} requests", "",
           "Baseline: `select * from requests` into pandas once, then filter and group in pandas "
           "for each render (the period: last 90 days).", "",
           f"- baseline load: {b['load_s']:.1f} s; peak memory {b['peak_rss_mb']:,.0f} MB",
           ""]
    out += ["| page | baseline per render (ms) | CivicStat warm (ms) | speed-up | "
            "CivicStat cold (ms) | speed-up vs load + render | CivicStat peak MB | memory ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for page, key in (("Overview", "overview_s"), ("Scorecards", "scorecard_s")):
        e = q.get(page)
        if not e:
            continue
        base_ms = b[key] * 1000
        warm, cold = e["warm"]["median_ms"], e["cold"]["median_ms"]
        peak = e["cold"].get("peak_rss_mb")
        memory_ratio = "–" if not peak else f"{peak / b['peak_rss_mb']:.2f}"
        out.append(
            f"| {page} | {base_ms:,.0f} | {warm:,.0f} | {base_ms / warm:.1f}× | {cold:,.0f} | "
            f"{(b['load_s'] * 1000 + base_ms) / cold:.1f}× | {_mb(peak)} | "
            f"{memory_ratio} |"
        )
    return out + [""]


def _ingest(r):
    i = r.get("ingest")
    if not i:
        return []
    return ["## Ingest", "", f"A {i['rows']:,}-row NYC-format CSV written by the benchmark: "
            f"{i['seconds']:.1f} s, **{i['rows_per_s']:,.0f} rows/s** (read, validate, assign "
            f"districts, upsert); the same file again (all unchanged): "
            f"{i.get('replay_seconds', 0):.1f} s.", ""]


def _load(r):
    x = r.get("load")
    if not x:
        return []
    return ["## 50 concurrent sessions", "",
            "Real Streamlit sessions over the websocket (bench/load.py): each opens the Overview "
            "and changes filters; an interaction is a rerun until the script finished.", "",
            "```", _dump(x), "```", ""]


def _soak(r):
    x = r.get("soak")
    if not x:
        return []
    return ["## Soak", "", "```", _dump(x), "```", ""]


def _swap(r):
    x = r.get("swap")
    if not x:
        return []
    return ["## Two app processes during a publish", "", "```", _dump(x), "```", ""]


def _dump(x) -> str:
    import json

    return json.dumps({k: v for k, v in x.items() if k not in ("rss_samples", "samples")},
                      indent=2, default=str)


def _targets(r):
    return ["## Targets", "", "See the tables above; the summary of met and missed targets "
            "is in the note of the performance issue and below.", ""]
