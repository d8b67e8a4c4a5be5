"""Publish under load: two app processes, one city, a snapshot swapped in while sessions render.

Sessions keep rendering on both processes while `civicstat publish` swaps in a new snapshot; no
render may fail, and both processes must show the new data afterwards.

    python -m bench.swap --city /tmp/loadcity [--sessions 3] [--in-place]

What it does:
1. copies the city to a scratch folder (unless --in-place: the store is changed!), starts two
   `streamlit run app.py` processes on it, opens SESSIONS websocket sessions on each and reads
   the Overview's "Requests received" figure (default period, no filters);
2. marks CHANGE recent public requests as duplicates in the store, so that figure must drop by
   exactly CHANGE after the publish (duplicates are left out of every performance figure);
3. runs `python -m civicstat.cli.main publish` while every session keeps changing the period back and
   forth and new sessions keep opening on both processes;
4. afterwards, every old session and a fresh one on each process must show the new figure.

run_swap(city_dir, ...) -> dict with the verdict ("ok"), failed renders, the figure before/after
per process, when each process first showed the new figure, and the publish time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench.load import PROJECT, Interaction, StreamlitSession, serve, summarize

MARKER = "Requests received"  # the Overview's KPI whose value the swap must change
PERIODS = ("Last 30 days", "Last 90 days")  # the churn flips between these
DEFAULT_PERIOD_LABEL = "Last 90 days"  # the Overview's default period (filters.DEFAULT_PERIOD)
MAX_CHURN_ROUNDS = 10_000  # bound on reruns per churning session


def figure(session: StreamlitSession, label: str = MARKER) -> int | None:
    """The integer a metric shows in the session's last render ("66,340" -> 66340)."""
    if session.last is None or label not in session.last.metrics:
        return None
    text = session.last.metrics[label].replace(",", "").strip()
    return int(text) if text.isdigit() else None


def snapshot_version(path: Path) -> str | None:
    """The version recorded in a published snapshot (read-only, closed at once)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select version from snapshot_info").fetchone()[0]
    finally:
        con.close()


def copy_city(city_dir: Path, scratch: Path) -> Path:
    """Copy a city folder (config, boundaries, store, published snapshots) to scratch/city."""
    target = scratch / "city"
    shutil.copytree(city_dir, target, ignore=shutil.ignore_patterns("*.tmp", "*.wal", "quarantine*"))
    return target


def mark_duplicates(city_dir: Path, count: int, recent_days: int = 20) -> list[str]:
    """Mark `count` recent, public, non-duplicate requests as duplicates in the store."""
    from civicstat.core.city import load_city

    city = load_city(city_dir)
    hidden = [t for t, tier in city.sensitive.items() if tier == "aggregate_only"]
    con = duckdb.connect(str(city.store_path), config={"autoinstall_known_extensions": False})
    try:
        ids = [row[0] for row in con.execute(
            """
            with bounds as (select max(created_at) as last_created from requests)
            select request_id from requests, bounds
            where created_at >= last_created - to_days($days)
              and closure is distinct from 'duplicate'
              and not list_contains($hidden, request_type)
            order by request_id limit $count
            """,
            {"days": recent_days, "hidden": hidden, "count": count},
        ).fetchall()]
        con.execute(
            "update requests set closure = 'duplicate', status = 'closed', "
            "closed_at = coalesce(closed_at, created_at) where list_contains($ids, request_id)",
            {"ids": ids},
        )
        con.execute("checkpoint")
    finally:
        con.close()
    return ids


def publish_command(city_dir: Path, app_dir: Path) -> list[str]:
    return [sys.executable, "-m", "civicstat.cli.main", "publish", str(city_dir)]


async def _open(server, query_string: str = "") -> tuple[StreamlitSession, Interaction]:
    """A new session on `server` (an app process, or bench.proxy's Pinned: the proxy, with the
    sticky cookie naming one of its processes)."""
    session = StreamlitSession(server.ws_url, query_string=query_string,
                               cookie=getattr(server, "cookie", ""))
    await asyncio.wait_for(session.connect(), 30)
    return session, await session.open()


async def swap_async(servers: dict, city_dir: Path, app_dir: Path, *, sessions: int = 3,
                     change: int = 7, settle: float = 3.0, think: float = 0.2,
                     publish_timeout: float = 900.0, seed: int = 311) -> dict:
    rng = random.Random(seed)
    result: dict = {"processes": list(servers), "sessions_per_process": sessions}
    version_before = snapshot_version(city_dir / "build" / "public.duckdb")

    # 1. sessions on both processes, and the figure before
    opened: dict[str, list[StreamlitSession]] = {}
    interactions: list[tuple[str, str, Interaction, int | None, float]] = []  # name, phase, ...
    for name, server in servers.items():
        pairs = await asyncio.gather(*(_open(server) for _ in range(sessions)))
        opened[name] = [session for session, _ in pairs]
        for session, interaction in pairs:
            interactions.append((name, "before", interaction, figure(session), time.monotonic()))
    before = {name: sorted({figure(s) for s in group}, key=str) for name, group in opened.items()}
    result["figure_before"] = before
    result["version_shown_on_page"] = any(
        version_before in text for group in opened.values() for s in group
        for text in (s.last.texts if s.last else [])
    )

    # 2. change the data, 3. publish while every session keeps rendering
    changed = await asyncio.to_thread(mark_duplicates, city_dir, change)
    result["requests_marked_duplicate"] = len(changed)
    stop = asyncio.Event()
    phase = {"now": "during"}
    publish_done: dict[str, float] = {}

    async def churn(name: str, session: StreamlitSession) -> None:
        for round_number in range(MAX_CHURN_ROUNDS):
            if stop.is_set():
                return
            period = PERIODS[round_number % 2]
            started_in = phase["now"]  # a render counts in the phase it started in
            interaction = await session.change("period", period)
            shown = figure(session) if period == DEFAULT_PERIOD_LABEL else None
            interactions.append((name, started_in, interaction, shown, time.monotonic()))
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    async def newcomers(name: str) -> None:  # fresh visitors keep arriving during the swap
        for _ in range(MAX_CHURN_ROUNDS):
            if stop.is_set():
                return
            started_in = phase["now"]
            try:
                session, interaction = await _open(servers[name])
            except Exception as error:  # a refused connection is a failed render too
                interaction = Interaction("connect", time.monotonic(), 0.0, False, repr(error))
                session = None
            interactions.append((name, started_in, interaction,
                                 figure(session) if session else None, time.monotonic()))
            if session:
                await session.close()
            await asyncio.sleep(think)

    async def publish() -> None:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *publish_command(city_dir, app_dir), cwd=app_dir,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), publish_timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        publish_done["at"] = time.monotonic()
        result["publish_s"] = round(publish_done["at"] - started, 2)
        result["publish_returncode"] = process.returncode
        if process.returncode != 0:
            result["publish_output"] = output.decode(errors="replace")[-2000:]
        phase["now"] = "after"

    workers = [asyncio.create_task(churn(name, s)) for name, group in opened.items() for s in group]
    workers += [asyncio.create_task(newcomers(name)) for name in servers]
    try:
        await publish()
        await asyncio.sleep(settle)
    finally:
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
    version_after = snapshot_version(city_dir / "build" / "public.duckdb")
    result["version_before"], result["version_after"] = version_before, version_after

    # 4. every old session, and a fresh one on each process, must show the new figure
    after: dict[str, list[int | None]] = {}
    for name, group in opened.items():
        shown = []
        for session in group:
            interaction = await session.change("period", DEFAULT_PERIOD_LABEL)
            interactions.append((name, "final", interaction, figure(session), time.monotonic()))
            shown.append(figure(session))
            await session.close()
        fresh, interaction = await _open(servers[name])
        interactions.append((name, "final", interaction, figure(fresh), time.monotonic()))
        shown.append(figure(fresh))
        await fresh.close()
        after[name] = shown
    result["figure_after"] = {name: sorted(set(values), key=str) for name, values in after.items()}

    # the verdict
    old = {v for values in before.values() for v in values}
    expected = {v - len(changed) for v in old if v is not None}
    result["figure_expected_after"] = sorted(expected)
    all_items = [i for _, _, i, _, _ in interactions]
    result["renders"] = summarize(all_items)
    result["renders_during_publish"] = sum(1 for _, p, _, _, _ in interactions if p == "during")
    result["failed_renders"] = [
        {"process": name, "phase": p, "kind": i.kind, "error": i.error}
        for name, p, i, _, _ in interactions if not i.ok
    ][:20]
    first_new = {}
    for name in servers:
        times = [t for n, p, i, shown, t in interactions
                 if n == name and i.ok and shown is not None and shown in expected
                 and p in ("during", "after", "final")]
        first_new[name] = (round(min(times) - publish_done["at"], 2)
                           if times and "at" in publish_done else None)
    result["first_new_figure_after_publish_s"] = first_new
    # renders started after the publish had swapped the files in, still showing the old figure
    stale_after = [(n, shown) for n, p, i, shown, _ in interactions
                   if p in ("after", "final") and shown is not None and shown not in expected]
    result["stale_renders_after_publish"] = len(stale_after)
    result["picked_up"] = {
        name: bool(values) and all(v in expected for v in values) for name, values in after.items()
    }
    result["ok"] = bool(
        len(old) == 1 and None not in old and len(changed) > 0
        and result.get("publish_returncode") == 0
        and version_after != version_before
        and not result["failed_renders"]
        and all(result["picked_up"].values())
        and not stale_after
    )
    return result


def run_swap(city_dir: Path | str, *, sessions: int = 3, change: int = 7, settle: float = 3.0,
             in_place: bool = False, app_dir: Path | str | None = None,
             scratch_dir: Path | str | None = None) -> dict:
    """Two app processes on one city, a publish under load; returns the verdict and numbers.

    The city is copied to a scratch folder first (its store is changed), unless in_place=True.
    """
    app_dir = Path(app_dir or PROJECT)
    with contextlib.ExitStack() as stack:
        if in_place:
            city = Path(city_dir).resolve()
        else:
            scratch = Path(scratch_dir) if scratch_dir else Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="civicstat-swap-")))
            city = copy_city(Path(city_dir).resolve(), scratch)
        servers = {
            name: stack.enter_context(serve(city, app_dir=app_dir))
            for name in ("A", "B")
        }
        started = time.monotonic()
        result = asyncio.run(swap_async(servers, city, app_dir, sessions=sessions,
                                        change=change, settle=settle))
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["rss_mb"] = {name: server.rss_mb() for name, server in servers.items()}
        if not result["ok"]:
            result["server_logs"] = {name: server.log_tail(2000) for name, server in servers.items()}
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.swap", description=__doc__.split("\n")[0])
    parser.add_argument("--city", required=True, help="a published city folder")
    parser.add_argument("--sessions", type=int, default=3, help="sessions per process")
    parser.add_argument("--change", type=int, default=7, help="requests to mark duplicate")
    parser.add_argument("--in-place", action="store_true",
                        help="change and republish the city itself (default: a scratch copy)")
    parser.add_argument("--app-dir", help="project folder holding app.py (default: this one)")
    args = parser.parse_args(argv)
    result = run_swap(args.city, sessions=args.sessions, change=args.change,
                      in_place=args.in_place, app_dir=args.app_dir)
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
