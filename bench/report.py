"""Render bench/results.json as bench/RESULTS.md: tables, then each target met or missed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _whole(value) -> str:
    """A number of ms or MB, whole, with thousands separators ("–" for none)."""
    return "–" if value is None else f"{value:,.0f}"


def _s(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _table(header: Sequence[str], aligns: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table: `aligns` has one letter per column, "r" (right) or "l" (left)."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in aligns) + "|"
    return ["| " + " | ".join(header) + " |", rule,
            *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)]


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
    out += _build(r) + _queries(r) + _browser(r) + _phone(r) + _memory(r) + _baseline(r) + _ingest(r)
    out += _load(r) + _soak(r) + _swap(r) + _proxy(r) + _crashes(r) + _churn(r) + _delta(r) + _targets(r)
    return "\n".join(out) + "\n"


def _build(r):
    rows = r.get("build", {})
    if not rows:
        return []
    table = [
        (f"{int(size):,}", "reused" if e.get("generate_s") is None else f"{e['generate_s']:.0f}",
         f"{e.get('publish_s', 0):.1f}")
        for size, e in sorted(rows.items(), key=lambda kv: int(kv[0]))
    ]
    return ["## Building and publishing", "",
            *_table(("requests", "generate (s)", "publish (s)"), "rrr", table), ""]


def _queries(r):
    sizes = r.get("queries", {})
    if not sizes:
        return []
    table = [
        (f"{int(size):,}", page, e["queries"], _whole(e["warm"]["median_ms"]),
         _whole(e["warm"]["p95_ms"]), _whole(e["cold"]["median_ms"]), _whole(e["cold"]["p95_ms"]),
         _whole(e["scan_ms"]), _s(e.get("ratio_to_scan")))
        for size, pages in sorted(sizes.items(), key=lambda kv: int(kv[0]))
        for page, e in pages.items()
    ]
    header = ("requests", "page", "queries", "warm median (ms)", "warm p95 (ms)",
              "cold median (ms)", "cold p95 (ms)", "full scan of its columns (ms)", "warm ÷ scan")
    return ["## Each page's query set (one render)", "", *_table(header, "rlrrrrrrr", table), ""]


def _browser(r):
    pages = r.get("browser")
    if not pages:
        return []
    out = [f"## In Chromium at {r.get('reference_rows', 0):,} requests", "",
           "Time from navigation until the page has finished drawing (script done, every plotly "
           "chart and deck.gl canvas present); bytes the server sent over the websocket for "
           "the render, and over HTTP (Streamlit's static files, the same for every page and "
           "cached by the browser after the first visit). Median of 3. Public pages: loaded in a "
           "fresh tab. Staff pages: chosen from the Staff menu after a built-in sign-in, timed "
           "from the click (a reload would sign the visitor out).", ""]
    table = [(path, e.get("via", "fresh tab"), f"{e['seconds']:.2f}", f"{e['ws_bytes']:,}",
              f"{e['http_bytes']:,}") for path, e in pages.items()]
    header = ("page", "reached by", "seconds", "websocket bytes", "HTTP bytes")
    return out + _table(header, "llrrr", table) + [""]


def _phone(r):
    """A first and a repeat visit of / on a phone, alone and through the proxy (bench/phone.py)."""
    p = r.get("phone")
    if not p:
        return []
    rows = []
    for way, label in (("direct", "one Streamlit process, no proxy"),
                       ("proxy", "`civicstat serve`: nginx, 2 app processes, http"),
                       ("proxy_tls", "the same over https and HTTP/2 (brotli)")):
        for visit in ("first", "repeat"):
            e = p.get(way, {}).get(visit)
            if e:
                rows.append((label, visit, f"{e['bytes'] / 1e6:.2f}", _s(e["first_kpi_s"]),
                             _s(e["chart_s"])))
    return [
        "## A phone's visit to the Overview",
        "",
        f"`/` at {p['network']} (Chromium's network emulation), {p.get('rows') or 0:,} requests; "
        "median of 3 fresh browsers. MB over the wire: HTTP as received (compressed where the "
        "server compressed it, headers included) plus websocket frames. Seconds from navigation "
        "to the first KPI value shown and to the first chart trace drawn. Repeat: the same page "
        "again in the same browser (its cache warm). `python -m bench.phone --city DIR`.",
        "",
        *_table(("served by", "visit", "MB", "first KPI s", "chart s"), "llrrr", rows),
        "",
    ]


def _memory(r):
    sizes = r.get("memory")
    if not sizes:
        return []
    table = [(f"{int(size):,}", _whole(e.get("peak_rss_mb")), _whole(e.get("rss_mb")))
             for size, e in sorted(sizes.items(), key=lambda kv: int(kv[0]))]
    return ["## App process memory while serving", "",
            *_table(("requests", "peak RSS (MB)", "RSS after (MB)"), "rrr", table), ""]


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
    table = []
    for page, key in (("Overview", "overview_s"), ("Scorecards", "scorecard_s")):
        e = q.get(page)
        if not e:
            continue
        base_ms = b[key] * 1000
        warm, cold = e["warm"]["median_ms"], e["cold"]["median_ms"]
        peak = e["cold"].get("peak_rss_mb")
        table.append((page, _whole(base_ms), _whole(warm), f"{base_ms / warm:.1f}×", _whole(cold),
                      f"{(b['load_s'] * 1000 + base_ms) / cold:.1f}×", _whole(peak),
                      "–" if not peak else f"{peak / b['peak_rss_mb']:.2f}"))
    header = ("page", "baseline per render (ms)", "CivicStat warm (ms)", "speed-up",
              "CivicStat cold (ms)", "speed-up vs load + render", "CivicStat peak MB",
              "memory ratio")
    return out + _table(header, "lrrrrrrr", table) + [""]


def _ingest(r):
    i = r.get("ingest")
    if not i:
        return []
    return ["## Ingest", "", f"A {i['rows']:,}-row NYC-format CSV written by the benchmark: "
            f"{i['seconds']:.1f} s, **{i['rows_per_s']:,.0f} rows/s** (read, validate, assign "
            f"districts, upsert); the same file again (all unchanged): "
            f"{i.get('replay_seconds', 0):.1f} s.", ""]


def _timings(rows: dict[str, dict]) -> list[str]:
    """{label: load.summarize() numbers} as a table of interaction timings."""
    header = ("interactions", "count", "errors", "p50 (s)", "p95 (s)", "max (s)", "median KB sent")
    return _table(header, "lrrrrrr", [
        (label, f"{x['interactions']:,}", f"{x['errors']:,}", _s(x["p50_s"]), _s(x["p95_s"]),
         _s(x["max_s"]), _whole(x.get("median_kb_received") or 0))
        for label, x in rows.items()
    ])


def _load(r):
    x = r.get("load")
    if not x:
        return []
    out = ["## 50 concurrent sessions", "",
           f"Real Streamlit sessions over the websocket (bench/load.py), one app process: "
           f"{x['sessions']} visitors arrive within 2 s; each opens the Overview, then changes "
           f"{x['changes']} filters (period, department) about {x['think_s']:g} s apart. An "
           "interaction is one rerun, timed from sending it until the script finished.", ""]
    out += _timings({"all": x, **x.get("by_kind", {})})
    out += ["", f"Server: {x['server_cpu_s']:.1f} s of CPU in all, "
            f"{x['server_cpu_s_per_interaction']:.3f} s per interaction; RSS "
            f"{x['rss_start_mb']:.0f} MB before, peak {x['rss_peak_mb']:.0f} MB, "
            f"{x['rss_end_mb']:.0f} MB after. Load average {x['loadavg_before']:.1f} before, "
            f"{x['loadavg_after']:.1f} after (the load client runs on the same 2 cores).", ""]
    return out


def _soak(r):
    x = r.get("soak")
    if not x:
        return []
    out = ["## Soak", "",
           f"{x['seconds'] / 60:.0f} minutes with {x['sessions_alive']} visitors at all times, "
           f"coming and going ({x['visitors']:,} visitors in all; each opens the Overview, "
           "changes one to three filters, leaves).", ""]
    out += _timings({"all": x}) + [""]
    samples = x.get("rss_samples") or []
    minutes = []
    for m in x.get("per_minute", []):
        rss = [mb for t, mb in samples if t <= (m["minute"] + 1) * 60]
        minutes.append((m["minute"], f"{m['interactions']:,}", m["errors"], _s(m["p50_s"]),
                        _s(m["p95_s"]), _whole(rss[-1] if rss else None)))
    header = ("minute", "interactions", "errors", "p50 (s)", "p95 (s)",
              "server RSS at its end (MB)")
    out += _table(header, "rrrrrr", minutes)
    out += ["", f"RSS {x['rss_start_mb']:.0f} MB at the start, {x['rss_end_mb']:.0f} MB at the "
            f"end (peak {x['rss_peak_mb']:.0f} MB); least-squares slope "
            f"{x['rss_slope_first_half_mb_per_min']:+.2f} MB/min over the first half, "
            f"{x['rss_slope_last_half_mb_per_min']:+.2f} MB/min over the second: "
            f"{'levels off' if x.get('rss_levels_off') else 'does not level off'}.", ""]
    return out


def _swap(r):
    x = r.get("swap")
    if not x:
        return []
    renders = x.get("renders", {})
    picked = ", ".join(f"{name}: {'yes' if ok else 'no'}" for name, ok in x["picked_up"].items())
    return ["## Two app processes during a publish", "",
            f"Processes {', '.join(x['processes'])} serve the same city, "
            f"{x['sessions_per_process']} sessions each rendering the Overview over and over, "
            f"while `civicstat publish` ({x['publish_s']:.0f} s) swaps in a snapshot with "
            f"{x['requests_marked_duplicate']} requests marked duplicate.", "",
            *_table(("renders", "during the publish", "failed", "stale after the publish",
                     "p95 (s)", "new figure picked up"), "rrrrrl",
                    [(f"{renders.get('interactions', 0):,}", f"{x['renders_during_publish']:,}",
                      len(x["failed_renders"]), x["stale_renders_after_publish"],
                      _s(renders.get("p95_s")), picked)]), "",
            f"Version {x['version_before']} → {x['version_after']}; result: "
            f"{'ok' if x['ok'] else '**failed**'}.", ""]


def _proxy(r):
    """Through `civicstat serve`: 1 vs 2 processes, a process killed, a publish (bench/proxy.py)."""
    x = r.get("proxy")
    if not x:
        return []
    size = f"{x['requests']:,} requests" if x.get("requests") else "the reference city"
    out = ["## Through the proxy: several app processes", "",
           f"`civicstat serve` (nginx, deploy/nginx/) in front of the app processes, at {size}; "
           "each simulated visitor loads the page through nginx, keeps its civicstat_worker "
           "cookie and opens the websocket with it, then changes filters (about 1 s think time). "
           "`python -m bench.proxy --city DIR` runs it alone. Load average (1 min) before and "
           "after each measurement: other work on the machine shares its cores.", ""]
    scale = x.get("scale")
    if scale:
        rows = []
        for n in (1, 2):
            e = scale.get(f"{n}_processes")
            if e:
                log = e["proxy_log"]
                rows.append((n, e["sessions"], f"{e['interactions_per_s']:.1f}",
                             _s(e["window_p50_s"]), _s(e["window_p95_s"]), e["errors"],
                             f"{log['websockets']:,}", log["moved"],
                             f"{e['loadavg_before'][0]:.1f} → {e['loadavg_after'][0]:.1f}"))
        out += _table(("processes", "sessions", "interactions/s", "p50 (s)", "p95 (s)",
                       "errors", "websockets", "moved", "load average"), "rrrrrrrrl", rows)
        out += ["", f"2 processes ÷ 1: {_s(scale.get('speedup'))}× the interactions per second. "
                "`moved`: websockets that reached another process than the one their cookie "
                "named (nginx's access log).", ""]
    kill = x.get("kill")
    if kill:
        t = kill["render_again_after_kill_s"]
        outcomes = ", ".join(f"{k}: {v}" for k, v in kill["outcomes"].items()) or "–"
        out += [f"One of 2 processes killed (SIGKILL) under {kill['sessions']} sessions: "
                f"{kill['affected_visitors']} visitors were on it ({outcomes}); their "
                "reconnected websockets were told to reload "
                f"{_s(kill.get('told_to_reload_after_kill_s', {}).get('p50'))} s after the kill "
                f"(p50), and each page rendered again {_s(t['p50'])} s after it (p50), "
                f"{_s(t['p95'])} s (p95), "
                f"{_s(t['max'])} s at most; {kill['failed_renders_after_kill']} renders failed "
                "(the ones in flight on the killed process). Load average "
                f"{kill['loadavg_before'][0]:.1f} → {kill['loadavg_after'][0]:.1f}.", ""]
    pub = x.get("publish")
    if pub:
        picked = ", ".join(f"{n}: {'yes' if ok else 'no'}" for n, ok in pub["picked_up"].items())
        out += [f"A publish ({pub['publish_s']:.0f} s) during load through the proxy, "
                f"{pub['sessions_per_process']} sessions pinned to each process by cookie plus "
                f"new visitors: {pub['renders']['interactions']:,} renders, "
                f"{len(pub['failed_renders'])} failed, {pub['stale_renders_after_publish']} stale "
                f"after the publish; new version on each process: {picked}; sessions moved: "
                f"{pub['proxy_log']['moved']}. Load average {pub['loadavg_before'][0]:.1f} → "
                f"{pub['loadavg_after'][0]:.1f}. Result: {'ok' if pub['ok'] else '**failed**'}.",
                ""]
    return out


def _crashes(r):
    x = r.get("crashes")
    if not x or "ingest" not in x:
        return []
    rows = []
    for kind in ("ingest", "publish"):
        e = x[kind]
        landed = "; ".join(f"{where}: {n}" for where, n in sorted(e["landed"].items()))
        rows.append((f"`civicstat {kind}`", e["trials"], f"{e['reference_seconds']:.1f}", landed,
                     e["failed"]))
    out = ["## kill -9 during ingest and publish", "",
           f"A city of {x['rows']:,} requests (synthetic NYC CSV, New York's council districts); "
           "each command killed with SIGKILL at a random moment of its uninterrupted duration, then "
           "checked (both snapshots open with one version), run again to the end and compared with "
           "an uninterrupted run (stored requests and their fingerprint, runs recorded, every "
           "snapshot table's row count; no temporary files left; snapshots not behind the store). "
           "`python -m bench.crashes` runs it alone.", "",
           *_table(("command", "kills", "uninterrupted (s)", "where the kills landed", "failed"),
                   "lrrlr", rows), ""]
    for kind in ("ingest", "publish"):
        out += [f"- {kind}: {failure}" for failure in x[kind]["failures"]]
    return out


def _churn(r):
    x = r.get("churn")
    if not x or "renders" not in x:
        return []
    renders, downloads, cpu = x["renders"], x["downloads"], x["download_cpu"]
    return ["## Ingest and publish under load", "",
            f"{x['rows']:,} requests; for {x['seconds'] / 60:.0f} minutes {x['sessions']} visitors "
            f"at a time ({x['visitors']['overview']:,} on the Overview changing filters, "
            f"{x['visitors']['open data']:,} downloading the open-data CSV) while `civicstat ingest` "
            f"loaded and published {x['cycles']} files of 10,000 requests (a share of them newer "
            "each time) "
            f"({x['cycles_failed']} failed; median {x['cycle_seconds_median']} s a cycle). "
            "`python -m bench.churn` runs it alone.", "",
            *_table(("renders", "failed", "p95 (s)", "downloads", "failed", "download p95 (s)",
                     "RSS first → last (MB)", "RSS slope, 1st / 2nd half (MB/min)"), "rrrrrrrr",
                    [(f"{renders['interactions']:,}", renders["errors"], _s(renders["p95_s"]),
                      f"{downloads['interactions']:,}", downloads["errors"],
                      _s(downloads["p95_s"]),
                      f"{x['rss_first_mb']:.0f} → {x['rss_last_mb']:.0f}",
                      f"{x['rss_slope_first_half_mb_per_min'] or 0:.1f} / "
                      f"{x['rss_slope_last_half_mb_per_min'] or 0:.1f}")]), "",
            "One open-data download after the visitors stopped (the app process's own CPU "
            f"time): the first after the last "
            f"publish {cpu['first']['cpu_s']} CPU-s ({cpu['first']['bytes'] / 1e6:.1f} MB), each "
            f"repeat at most {cpu['repeat_cpu_s_max']} CPU-s (target ≤ 1).", "",
            *(f"- failed: {f['kind']}: {f['error']}" for f in x["failed_samples"]), ""]


def _delta(r):
    x = r.get("delta")
    if not x:
        return []
    rows = []
    for size, e in sorted(x.items(), key=lambda kv: int(kv[0])):
        verified = e.get("verified")
        check = ("—" if not verified else "same content hash and row counts"
                 if verified["content_hash_equal"] and not verified["tables_with_other_counts"]
                 else f"**differs**: {verified}")
        rows.append((f"{int(size):,}", f"{e['records']:,} ({e['new']:,} new, {e['closures']:,} "
                     "closures)", _s(e["full_publish_s"]), _s(e["ingest_s"]), _s(e["publish_s"]),
                     _s(e["ingest_and_publish_s"]), e["publish_mode"], check))
    return ["## A day's delta: ingest plus incremental publish", "",
            "A copy of each size's city (without city.toml's fixed as-of, so the as-of moves a "
            "day) published in full, then a day's records loaded with the ingest pipeline and "
            "published incrementally (civicstat/publish/incremental.py); checked against a full "
            "publish of the same store up to 10M. `python -m bench.delta --rows N --verify` runs "
            "it alone.", "",
            *_table(("requests", "delta", "full publish (s)", "ingest (s)", "publish (s)",
                     "ingest + publish (s)", "mode", "checked against a full publish"),
                    "rlrrrrll", rows), ""]


def _targets(r):
    """Each target of the performance issue against what this run measured."""
    rows = []
    queries = r.get("queries", {})
    fifty = queries.get("50000000", {})
    if fifty:
        pages = {p: e for p, e in fifty.items() if e["queries"]}
        worst_warm = max(pages.items(), key=lambda kv: kv[1]["warm"]["median_ms"])
        worst_cold = max(pages.items(), key=lambda kv: kv[1]["cold"]["median_ms"])
        worst_ratio = max(pages.items(), key=lambda kv: kv[1]["ratio_to_scan"] or 0)
        rows += [
            ("every page's query set, warm median, 50M", "≤ 300 ms",
             f"worst {worst_warm[0]}: {worst_warm[1]['warm']['median_ms']:.0f} ms",
             worst_warm[1]["warm"]["median_ms"] <= 300),
            ("every page's query set, cold, 50M", "≤ 1.5 s",
             f"worst {worst_cold[0]}: {worst_cold[1]['cold']['median_ms']:.0f} ms",
             worst_cold[1]["cold"]["median_ms"] <= 1500),
            ("query set ÷ one full scan of its columns, 50M", "≤ 1",
             f"worst {worst_ratio[0]}: {worst_ratio[1]['ratio_to_scan']:.2f}",
             (worst_ratio[1]["ratio_to_scan"] or 0) <= 1),
        ]
    b, ten = r.get("baseline"), queries.get(str(r.get("reference_rows")), {})
    if b and ten.get("Overview") and ten.get("Scorecards"):
        for page, key in (("Overview", "overview_s"), ("Scorecards", "scorecard_s")):
            e = ten[page]
            speed = b[key] * 1000 / e["warm"]["median_ms"]
            memory = (e["cold"].get("peak_rss_mb") or 0) / b["peak_rss_mb"]
            rows.append((f"{page} vs pandas baseline, 10M", "≥ 20× faster, ≤ 1/5 memory",
                         f"{speed:.0f}× faster, {memory:.2f} of its memory",
                         speed >= 20 and memory <= 0.2))
    mem = r.get("memory", {}).get("50000000")
    if mem and mem.get("peak_rss_mb"):
        rows.append(("app RSS at 50M", "≤ 1.5 GB", f"peak {mem['peak_rss_mb']:,.0f} MB",
                     mem["peak_rss_mb"] <= 1536))
    browser = r.get("browser")
    if browser:
        worst = max(browser.items(), key=lambda kv: kv[1]["ws_bytes"])
        rows.append(("sent to the browser per page render", "≤ 2 MB",
                     f"worst {worst[0]}: {worst[1]['ws_bytes'] / 1e6:.2f} MB over the websocket "
                     "(Streamlit's static files, 3–9 MB, come once per browser and are cached)",
                     worst[1]["ws_bytes"] <= 2_000_000))
    phone = r.get("phone", {}).get("proxy")
    if phone:
        first, repeat = phone["first"], phone["repeat"]
        rows += [
            ("phone, first visit of /, over the wire (proxy)", "≤ 4 MB",
             f"{first['bytes'] / 1e6:.2f} MB", first["bytes"] <= 4_000_000),
            ("phone, first visit: first KPI (proxy)", "≤ 2.5 s", f"{first['first_kpi_s']:.1f} s",
             first["first_kpi_s"] <= 2.5),
            ("phone, first visit: chart drawn (proxy)", "≤ 6 s", f"{first['chart_s']:.1f} s",
             first["chart_s"] <= 6),
            ("phone, repeat visit: chart drawn (proxy)", "≤ 2 s", f"{repeat['chart_s']:.1f} s",
             repeat["chart_s"] <= 2),
        ]
    ingest = r.get("ingest")
    if ingest:
        rows.append(("ingest, NYC-format rows", "≥ 150,000 rows/s",
                     f"{ingest['rows_per_s']:,.0f} rows/s ({ingest['rows']:,} rows)",
                     ingest["rows_per_s"] >= 150_000))
    publish = r.get("build", {}).get("50000000", {}).get("publish_s")
    if publish:
        rows.append(("publish at 50M", "≤ 3 min", f"{publish:.0f} s", publish <= 180))
    day = r.get("delta", {}).get("50000000")
    if day:
        rows.append(("daily delta at 50M: ingest plus publish", "≤ 60 s",
                     f"{day['ingest_and_publish_s']:.0f} s", day["ingest_and_publish_s"] <= 60))
    load = r.get("load")
    if load:
        rows.append(("50 concurrent sessions, p95 interaction, 10M", "≤ 3 s",
                     f"{load['p95_s']:.1f} s (p50 {load['p50_s']:.1f} s), one app process",
                     load["p95_s"] <= 3))
    proxy = r.get("proxy", {})
    scale = proxy.get("scale", {})
    if scale.get("speedup") is not None:
        two = scale["2_processes"]
        rows += [
            ("2 processes behind the proxy ÷ 1, interactions/s, 100 sessions", "≥ 1.5×",
             f"{scale['speedup']:.2f}× ({scale['1_processes']['interactions_per_s']:.1f} → "
             f"{two['interactions_per_s']:.1f}/s)", scale["speedup"] >= 1.5),
            ("p95 interaction, 2 processes behind the proxy, 100 sessions", "≤ 3 s",
             f"{two['window_p95_s']:.1f} s", two["window_p95_s"] <= 3),
        ]
    kill = proxy.get("kill")
    if kill:
        worst = kill["render_again_after_kill_s"]["max"]
        every = kill["rendered_again"] == kill["affected_visitors"] > 0
        rows.append(("one process killed: every affected page renders again", "≤ 10 s",
                     f"{kill['rendered_again']} of {kill['affected_visitors']}, at most "
                     f"{_s(worst)} s", every and worst is not None and worst <= 10))
    pub = proxy.get("publish")
    if pub:
        rows.append(("publish during load through the proxy: failed renders", "0",
                     f"{len(pub['failed_renders'])}, every process on the new version: "
                     f"{'yes' if all(pub['picked_up'].values()) else 'no'}", bool(pub["ok"])))
    soak = r.get("soak")
    if soak:
        rows.append(("RSS in a 10-minute soak", "levels off",
                     f"{soak['rss_start_mb']:.0f} → {soak['rss_end_mb']:.0f} MB; "
                     f"{soak['rss_slope_first_half_mb_per_min']:+.1f} then "
                     f"{soak['rss_slope_last_half_mb_per_min']:+.1f} MB/min",
                     bool(soak.get("rss_levels_off"))))
    out = ["## Targets", "", *_table(("target", "goal", "measured", "met"), "llll",
                                      [(t, g, m, "yes" if ok else "**no**") for t, g, m, ok in rows])]
    notes = r.get("notes", [])
    if notes:
        out += ["", "Notes on this run:", ""] + [f"- {n}" for n in notes]
    return out + [""]
