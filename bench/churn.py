"""Ingest and publish over and over while visitors use the app (issue 16, "Load").

    .venv/bin/python -m bench.churn [--seconds 600] [--sessions 30] [--rows 300000]

One app process serves a city of `rows` synthetic NYC requests (bench/crashes.make_base). For
`seconds`, `sessions` visitors at a time come and go (bench/load's websocket client): two in
three open the Overview and change filters, one in three opens Open data and downloads the CSV
of the default filters. Meanwhile `civicstat ingest` loads a new file every cycle (10,000
requests over the same ids, each cycle's versions drawn afresh, so every cycle changes some)
and publishes it. Measured: failed renders and downloads (the target is 0), the app's RSS over
time (level: the second half's slope at most 1 MB/min or a quarter of the first half's), cycles
and their seconds, and, once the load has stopped, what one open-data download costs the
server in CPU: the first after a publish (the file is made) and repeats (served from the cache;
target at most 1 CPU-second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench.crashes import CIVICSTAT, PROJECT, make_base
from bench.ingest_speed import make_nyc_csv
from bench.load import (
    RssSampler,
    StreamlitSession,
    cpu_seconds,
    serve,
    slope_mb_per_min,
    summarize,
    visit,
)

DOWNLOAD = "Download CSV"
CYCLE_ROWS = 10_000


async def open_data_visit(ws_url: str) -> list:
    """Open the Open data page and download its CSV (the default filters)."""
    session = StreamlitSession(ws_url, page_name="open-data")
    try:
        await asyncio.wait_for(session.connect(), 30)
        opened = await session.open()
        if opened.ok:
            if DOWNLOAD not in session.links:
                opened.ok, opened.error = False, f"no {DOWNLOAD!r} link"
            else:
                await session.follow(DOWNLOAD)
    except Exception as error:  # noqa: BLE001 (a refused connection is a failed render)
        from bench.load import Interaction

        return [Interaction("connect", time.monotonic(), 0.0, False, repr(error))]
    finally:
        await session.close()
    return session.interactions


def ingest_cycles(city: Path, mapping: Path, work: Path, stop: float) -> list[dict]:
    """Ingest (and publish) a new file after another until `stop` (time.monotonic())."""
    cycles = []
    number = 0
    while time.monotonic() < stop:
        number += 1
        delta = make_nyc_csv(work / "cycle.csv", CYCLE_ROWS, seed=1000 + number)
        started = time.monotonic()
        done = subprocess.run(
            [*CIVICSTAT, "ingest", str(city), str(delta), "--mapping", str(mapping), "--json"],
            capture_output=True, text=True, cwd=PROJECT,
        )
        summary = {}
        if done.returncode == 0:
            summary = json.loads(done.stdout.strip().splitlines()[-1])
        cycles.append({"cycle": number, "seconds": round(time.monotonic() - started, 2),
                       "returncode": done.returncode,
                       "updated": summary.get("updated"), "inserted": summary.get("inserted"),
                       "error": done.stderr[-300:] if done.returncode else None})
    return cycles


async def churn_async(server, city: Path, mapping: Path, work: Path, *, seconds: float,
                      sessions: int, seed: int = 311, think: float = 1.0) -> dict:
    rng = random.Random(seed)
    await visit(server.ws_url, random.Random(seed - 1), changes=0)  # imports, first connection
    sampler = RssSampler(server.pid, 5.0)
    sampler.start()
    started = time.monotonic()
    deadline = started + seconds
    interactions: list = []
    visitors = {"overview": 0, "open data": 0}

    async def slot(number: int) -> None:
        await asyncio.sleep(think * number / max(sessions, 1))
        while time.monotonic() < deadline:
            visitor_rng = random.Random(rng.random())
            if visitor_rng.random() < 1 / 3:
                visitors["open data"] += 1
                interactions.extend(await open_data_visit(server.ws_url))
            else:
                visitors["overview"] += 1
                interactions.extend(await visit(server.ws_url, visitor_rng,
                                                changes=visitor_rng.randint(1, 3), think=think,
                                                deadline=deadline))

    slots = [asyncio.create_task(slot(n)) for n in range(sessions)]
    cycles = await asyncio.to_thread(ingest_cycles, city, mapping, work, deadline)
    await asyncio.gather(*slots, return_exceptions=True)
    await sampler.stop()
    samples = sampler.samples
    half = len(samples) // 2
    first, last = slope_mb_per_min(samples[:half]), slope_mb_per_min(samples[half:])
    failed = [{"kind": i.kind, "error": i.error} for i in interactions if not i.ok]
    result = {
        "seconds": seconds, "sessions": sessions, "visitors": visitors,
        "wall_s": round(time.monotonic() - started, 1),
        "renders": summarize([i for i in interactions if not i.kind.startswith("link")]),
        "downloads": summarize([i for i in interactions if i.kind.startswith("link")]),
        "failed": len(failed), "failed_samples": failed[:10],
        "cycles": len(cycles), "cycles_failed": sum(1 for c in cycles if c["returncode"]),
        "cycle_seconds_median": sorted(c["seconds"] for c in cycles)[len(cycles) // 2]
        if cycles else None,
        "cycle_samples": cycles[:3] + cycles[-2:],
        "rss_first_mb": samples[0][1] if samples else None,
        "rss_last_mb": samples[-1][1] if samples else None,
        "rss_max_mb": max((mb for _, mb in samples), default=None),
        "rss_slope_first_half_mb_per_min": first, "rss_slope_last_half_mb_per_min": last,
        "rss_levels_off": None if last is None else bool(last <= 1.0 or (
            first is not None and last <= first / 4)),
    }
    result["download_cpu"] = await download_cpu(server)
    return result


async def download_cpu(server, repeats: int = 5) -> dict:
    """With nothing else running: server CPU seconds for one download after the publish (the
    file is made once per snapshot version and filters) and for each repeat (cached)."""
    costs = []
    for _ in range(1 + repeats):
        session = StreamlitSession(server.ws_url, page_name="open-data")
        await asyncio.wait_for(session.connect(), 30)
        await session.open()
        before = cpu_seconds(server.pid)
        interaction, body = await session.follow(DOWNLOAD)
        after = cpu_seconds(server.pid)
        await session.close()
        costs.append({"ok": interaction.ok, "bytes": len(body),
                      "cpu_s": round(after - before, 3) if None not in (before, after) else None})
    repeated = [c["cpu_s"] for c in costs[1:] if c["cpu_s"] is not None]
    return {"first": costs[0], "repeats": costs[1:],
            "repeat_cpu_s_max": max(repeated) if repeated else None}


def run_churn(seconds: float = 600, sessions: int = 30, rows: int = 300_000,
              work: Path | None = None) -> dict:
    work = Path(work or tempfile.mkdtemp(prefix="civicstat-churn-"))
    files = make_base(work, rows)
    with serve(files["base"]) as server:
        result = asyncio.run(churn_async(server, files["base"], files["mapping"], work,
                                         seconds=seconds, sessions=sessions))
        if result["failed"]:
            result["server_log_tail"] = server.log_tail(3000)
    result["rows"] = rows
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    result = run_churn(args.seconds, args.sessions, args.rows)
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
