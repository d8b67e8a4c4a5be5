"""The same-run baseline and the scan limit.

Baseline: the Overview and the department scorecard computed the way most Streamlit dashboards
do it: the whole requests table loaded into a pandas DataFrame, then filtered and grouped there.
Scan limit: one DuckDB full scan of the columns a page's queries read.
Each measurement runs in its own process so its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent


def _period(frame_as_of: pd.Timestamp, days: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    end = frame_as_of.normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=days)
    return start, end, start - pd.Timedelta(days=days)


def pandas_overview(df: pd.DataFrame, as_of: pd.Timestamp, days: int = 90) -> dict:
    """Overview figures for the period and the one before, the weekly series, the districts."""
    start, end, prev_start = _period(as_of, days)
    df = df[df["closure"].fillna("") != "duplicate"]
    out = {}
    for name, lo, hi in (("current", start, end), ("previous", prev_start, start)):
        created = df[(df["created_at"] >= lo) & (df["created_at"] < hi)]
        closed = created[(created["status"] == "closed") & created["closed_at"].notna()]
        days_to_close = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
        days_to_close = days_to_close[days_to_close >= 0]
        with_due = created[created["due_at"].notna()]
        is_closed = (with_due["status"] == "closed") & with_due["closed_at"].notna()
        eligible = is_closed | (with_due["due_at"] < as_of)
        on_time = is_closed & (with_due["closed_at"] <= with_due["due_at"])
        open_at_end = (df["created_at"] < hi) & ~(
            (df["status"] == "closed") & (df["closed_at"].isna() | (df["closed_at"] < hi))
        )
        out[name] = {
            "count_requests": len(created),
            "median": days_to_close.median(),
            "p90": days_to_close.quantile(0.9),
            "on_time_rate": on_time.sum() / max(eligible.sum(), 1),
            "open": int(open_at_end.sum()),
        }
    window = df[(df["created_at"] >= start) & (df["created_at"] < end)]
    out["weeks"] = len(window.groupby(window["created_at"].dt.to_period("W")).size())
    out["districts"] = len(window.groupby("district").size())
    return out


def pandas_scorecard(df: pd.DataFrame, as_of: pd.Timestamp, days: int = 90) -> int:
    """Per department: requests, median/p90 days to close, on-time rate, backlog, overdue."""
    start, end, prev_start = _period(as_of, days)
    df = df[df["closure"].fillna("") != "duplicate"].copy()
    df["days_to_close"] = (df["closed_at"] - df["created_at"]).dt.total_seconds() / 86400
    df.loc[(df["status"] != "closed") | (df["days_to_close"] < 0), "days_to_close"] = None
    is_closed = (df["status"] == "closed") & df["closed_at"].notna()
    df["eligible"] = df["due_at"].notna() & (is_closed | (df["due_at"] < as_of))
    df["on_time"] = df["eligible"] & is_closed & (df["closed_at"] <= df["due_at"])
    df["is_open"] = df["status"] != "closed"
    df["is_overdue"] = df["is_open"] & (df["due_at"] < as_of)
    rows = 0
    for lo, hi in ((start, end), (prev_start, start)):
        window = df[(df["created_at"] >= lo) & (df["created_at"] < hi)]
        grouped = window.groupby("department").agg(
            count_requests=("request_id", "size"),
            median=("days_to_close", "median"),
            p90=("days_to_close", lambda s: s.quantile(0.9)),
            on_time=("on_time", "sum"),
            eligible=("eligible", "sum"),
        )
        rows += len(grouped)
    backlog = df[df["is_open"]].groupby("department").agg(
        open=("is_open", "sum"), overdue=("is_overdue", "sum")
    )
    return rows + len(backlog)


def _baseline_child(snapshot: str, repeats: int) -> dict:
    """Runs in a child process: load everything into pandas, then compute renders."""
    import duckdb

    from bench.load import peak_rss_mb

    started = time.perf_counter()
    with duckdb.connect(snapshot, read_only=True) as con:
        df = con.execute("select * from requests").df()
        as_of = pd.Timestamp(con.execute("select as_of from snapshot_info").fetchone()[0])
    load_s = time.perf_counter() - started
    overview, scorecard = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        pandas_overview(df, as_of)
        overview.append(time.perf_counter() - t)
        t = time.perf_counter()
        pandas_scorecard(df, as_of)
        scorecard.append(time.perf_counter() - t)
    return {
        "load_s": load_s,
        "overview_s": statistics.median(overview),
        "scorecard_s": statistics.median(scorecard),
        "peak_rss_mb": peak_rss_mb(os.getpid()),
    }


def run_baseline(snapshot: Path, repeats: int = 3) -> dict:
    """The pandas baseline in a fresh process: load time, per-render times, peak memory."""
    code = (
        "import json, sys; from bench.baseline import _baseline_child;"
        f"print(json.dumps(_baseline_child({str(snapshot)!r}, {repeats})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PROJECT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def columns_read(query_sql: list[str], table_columns: list[str]) -> list[str]:
    """The requests columns a set of queries mentions (a word match on the SQL text)."""
    words = set()
    for sql in query_sql:
        words |= set(re.findall(r"[a-z_]+", sql.lower()))
    return [c for c in table_columns if c in words]


def scan_seconds(snapshot: Path, columns: list[str], repeats: int = 7) -> float:
    """Median time of one full scan reading `columns` of requests (warm)."""
    from civicstat.serve.snapshots import connect_snapshot

    reads = ", ".join(f"max({c})" for c in columns) or "count(*)"
    sql = f"select count(*), {reads} from requests"  # noqa: S608 - column names from the table
    with connect_snapshot(snapshot) as con:
        con.execute(sql).fetchall()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
    return statistics.median(times)
