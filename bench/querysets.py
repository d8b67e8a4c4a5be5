"""Which queries one render of each page runs, and how long that query set takes.

The set is recorded by rendering the page with AppTest while the runner notes every query it
runs. Timing then replays exactly that set on the snapshot: cold in a fresh process (connection
opened, caches empty, as the first render after the app starts) and warm in one process
(DuckDB's buffers warm, CivicStat's result cache bypassed).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

PROJECT = Path(__file__).resolve().parent.parent


def record_page_queries(city_dir: Path, role: str = "admin") -> dict[str, list[tuple]]:
    """{page title: [(access, query name, params), ...]} for one default render of each page."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from civicstat.serve import queries
    from civicstat.web import pages

    os.environ["CIVICSTAT_CITY"] = str(city_dir)
    recorded: list[tuple] = []
    original = queries.Query.run

    def recording_run(self, con, values):
        recorded.append((self.access, self.name, dict(values)))
        return original(self, con, values)

    page_sets: dict[str, list[tuple]] = {}
    with mock.patch.object(queries.Query, "run", recording_run):
        for spec in pages.PAGE_SPECS:
            if not pages.allowed(spec, role):
                continue
            st.cache_data.clear()
            recorded.clear()
            app = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=600)
            _log_in(app, role)
            app.run()
            if spec.url_path:
                app.switch_page(str(PROJECT / "views" / spec.file)).run()
                st.cache_data.clear()
                recorded.clear()
                app.run()
            if app.exception:
                raise RuntimeError(f"{spec.title}: {app.exception[0].value}")
            page_sets[spec.title] = list(recorded)
    return page_sets


def _log_in(app, role: str) -> None:
    """Simulate a signed-in user of `role` (single sign-on, role given by e-mail in secrets)."""
    if role == "anonymous":
        return
    email = "bench@city.example"
    app.secrets = {"civicstat": {"roles": {email: role}}}
    app.user = {"is_logged_in": True, "email": email, "sub": "bench", "iat": 1}


def _serialise(query_set: list[tuple]) -> str:
    return json.dumps(
        [(a, n, {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in p.items()})
         for a, n, p in query_set]
    )


def _deserialise(text: str) -> list[tuple]:
    import datetime as dt

    out = []
    for access, name, params in json.loads(text):
        values = {}
        for key, value in params.items():
            if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
                value = dt.datetime.fromisoformat(value)
            values[key] = value
        out.append((access, name, values))
    return out


def run_query_set(build_dir: Path, query_set: list[tuple], connections: dict) -> float:
    """Seconds to run every query of the set (opening connections that are not open yet)."""
    from civicstat.serve.queries import get_query
    from civicstat.serve.snapshots import connect_snapshot

    started = time.perf_counter()
    for access, name, params in query_set:
        if access not in connections:
            connections[access] = connect_snapshot(build_dir / f"{access}.duckdb")
        get_query(access, name).run(connections[access], params)
    return time.perf_counter() - started


def cold_runs(build_dir: Path, query_set: list[tuple], repeats: int = 5) -> list[dict]:
    """Each repeat in a fresh Python process (connection opened, nothing cached):
    [{"seconds": .., "peak_rss_mb": .. of that process}]."""
    script = (
        "import sys, json; from pathlib import Path; from bench import querysets as q;"
        "import os; from bench.load import peak_rss_mb;"
        "s = q._deserialise(sys.stdin.read());"
        "t = q.run_query_set(Path(sys.argv[1]), s, {});"
        "print(json.dumps({'seconds': t, 'peak_rss_mb': peak_rss_mb(os.getpid())}))"
    )
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", script, str(build_dir)], input=_serialise(query_set),
            capture_output=True, text=True, cwd=PROJECT, check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def time_cold(build_dir: Path, query_set: list[tuple], repeats: int = 5) -> list[float]:
    """Seconds of each cold run (see cold_runs)."""
    return [run["seconds"] for run in cold_runs(build_dir, query_set, repeats)]


def time_warm(build_dir: Path, query_set: list[tuple], repeats: int = 15) -> list[float]:
    """Repeats in one process after one untimed run: DuckDB warm, no result cache."""
    connections: dict = {}
    run_query_set(build_dir, query_set, connections)
    times = [run_query_set(build_dir, query_set, connections) for _ in range(repeats)]
    for con in connections.values():
        con.close()
    return times


def summarise(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}
