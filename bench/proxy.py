"""Through the proxy: `civicstat serve` (nginx in front of N app processes) under the websocket
load client, each simulated visitor behaving like a browser tab towards the proxy.

    python -m bench.proxy --city bench/work/1000000 [--sessions 100] [--seconds 60]
                          [--parts scale,kill,publish]

A visitor first loads the page over HTTP through nginx and keeps the civicstat_worker cookie it
is given (the sticky session), then opens the websocket with that cookie, opens the Overview and
keeps changing filters (think time between) until the part's time is up. Parts:

- scale: the same load on 1 and then 2 app processes: interactions per second (completed in
  the measuring window, after the ramp) and p50/p95; from nginx's access log, every websocket
  and whether it went to the process its cookie named (`moved`: the ones that did not);
- kill: 2 processes; part-way through, one app process is killed (SIGKILL). Its visitors do
  what Streamlit's frontend does: ping /_stcore/health through the proxy (which, their process
  gone, names another in the cookie), reconnect the websocket asking for their old session, and
  wait for the server's answer. A reload message (civicstat.web.reconnect) makes them load the
  page again and render it; a reconnect answered by nothing within RELOAD_WAIT is a visitor
  stuck on a dead page (Streamlit 1.67 without the fix). Counted: failed renders, visitors
  rendered again, and the time from the kill to each one's page rendered again;
- publish: 2 processes, bench/swap.py's publish under load with its sessions pinned by cookie to
  each process through the proxy: 0 failed renders, every process on the new version.

run_proxy(city_dir, ...) -> dict; bench/run.py calls it as the `proxy` part. Only 127.0.0.1 is
targeted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.load import (
    FILTERS,
    HOST,
    OVERVIEW_MARKER,
    PROJECT,
    Interaction,
    StreamlitSession,
    _round,
    free_port,
    percentile,
    summarize,
)

COOKIE = "civicstat_worker"
STARTUP_TIMEOUT = 180.0  # seconds for `civicstat serve` to start its processes and nginx
RELOAD_WAIT = 15.0  # seconds a reconnected visitor waits for the server to make it reload
RECOVERY_TIMEOUT = 90.0  # seconds a visitor of a killed process keeps trying to come back
MAX_ROUNDS = 10_000  # bound on interactions per visitor


# ---------------------------------------------------------------------------------------------
# the stack
# ---------------------------------------------------------------------------------------------


@dataclass
class Proxy:
    """A running `civicstat serve`: nginx on `port`, its configuration and logs in `run_dir`."""

    port: int
    run_dir: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/_stcore/stream"

    def worker_ports(self) -> dict[str, str]:
        """w1 -> "127.0.0.1:PORT", from the rendered nginx configuration."""
        text = (self.run_dir / "nginx.conf").read_text()
        return dict(re.findall(r"upstream civicstat_(w\d+) \{\s*server (\S+) ", text))

    def access_log(self) -> list[dict]:
        path = self.run_dir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        pattern = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ '
                             r"upstream=(?P<upstream>.*) worker=(?P<worker>\S+)$")
        return [match.groupdict() for line in lines if (match := pattern.search(line))]

    def app_pid(self, worker: str) -> int | None:
        """The pid of the `streamlit run` process serving `worker` (w1, w2...)."""
        port = self.worker_ports()[worker].rsplit(":", 1)[1]
        found = [pid for pid, line in descendants(self.process.pid).items()
                 if "streamlit" in line and f"--server.port\0{port}\0" in line]
        return found[0] if len(found) == 1 else None


@dataclass
class Pinned:
    """The proxy, as seen by a visitor whose cookie names one process (for bench/swap.py)."""

    ws_url: str
    cookie: str


@contextlib.contextmanager
def serve_stack(city_dir: Path, workers: int, run_dir: Path, app_dir: Path = PROJECT):
    """`python -m civicstat.cli.main serve` on a free port of 127.0.0.1; stopped with Ctrl-C."""
    port = free_port()
    run_dir.mkdir(parents=True, exist_ok=True)
    out_path = run_dir / "serve.out"
    with open(out_path, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "civicstat.cli.main", "serve", str(city_dir), "--workers",
             str(workers), "--port", str(port), "--address", HOST, "--run-dir", str(run_dir)],
            cwd=app_dir, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Ctrl-C stops them all" not in out_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"civicstat serve did not start:\n{out_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield Proxy(port=port, run_dir=run_dir, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def descendants(pid: int) -> dict[int, str]:
    """Every process under `pid`: pid -> command line (NUL-separated)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            with contextlib.suppress(OSError):
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
                todo.append(child)
    return found


def _get(url: str, cookie: str, timeout: float = 60.0) -> tuple[int, str]:
    """GET `url` like the browser does (with its cookie); returns (status, the cookie now)."""
    if urllib.parse.urlsplit(url).hostname != HOST:
        raise ValueError(f"only {HOST} may be fetched, not {url}")
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
            response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
    for value in headers.get_all("Set-Cookie") or []:
        match = re.match(rf"{COOKIE}=([^;]+)", value)
        if match:
            cookie = f"{COOKIE}={match.group(1)}"
    return status, cookie


def loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# ---------------------------------------------------------------------------------------------
# visitors
# ---------------------------------------------------------------------------------------------


@dataclass
class Visitor:
    """One browser tab through the proxy: its cookie, its session, what it did."""

    number: int
    cookie: str = ""
    first_worker: str = ""
    session: StreamlitSession | None = None
    lost_at: float | None = None  # when its websocket broke (its process killed)
    outcome: str = ""  # "", "rendered again", "stuck (no rerun, no reload)", "gave up: ..."
    rendered_again_at: float | None = None
    told_to_reload_at: float | None = None  # when the reconnected websocket said "reload"
    reconnects: int = 0

    def worker(self) -> str:
        return self.cookie.split("=", 1)[1] if "=" in self.cookie else ""


async def arrive(proxy: Proxy, visitor: Visitor, query_string: str = "") -> Interaction:
    """Load the page (keeping the cookie), open the websocket with it, render the Overview."""
    page = proxy.url + "/" + (f"?{query_string}" if query_string else "")
    _, visitor.cookie = await asyncio.to_thread(_get, page, visitor.cookie)
    visitor.first_worker = visitor.first_worker or visitor.worker()
    visitor.session = StreamlitSession(proxy.ws_url, cookie=visitor.cookie,
                                       query_string=query_string)
    try:
        await asyncio.wait_for(visitor.session.connect(), 30)
    except Exception as error:
        interaction = Interaction("connect", time.monotonic(), 0.0, False,
                                  f"{type(error).__name__}: {error}"[:500])
        visitor.session.interactions.append(interaction)
        return interaction
    opened = await visitor.session.open()
    if opened.ok and OVERVIEW_MARKER not in (visitor.session.last.texts
                                             if visitor.session.last else []):
        opened.ok, opened.error = False, f"{OVERVIEW_MARKER!r} not rendered"
    return opened


async def come_back(proxy: Proxy, visitor: Visitor, deadline: float) -> list[Interaction]:
    """What Streamlit's frontend does when its websocket breaks: ping the health check through
    the proxy (the cookie may change), reconnect asking for its session, and wait. A reload
    message: load the page again and render it. Nothing: stuck, as a 1.67 page is."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    old = visitor.session
    interactions: list[Interaction] = []
    while time.monotonic() < deadline:
        visitor.reconnects += 1
        with contextlib.suppress(Exception):
            await old.close()
        try:
            status, visitor.cookie = await asyncio.to_thread(
                _get, proxy.url + "/_stcore/health", visitor.cookie, 10)
        except OSError:
            status = 0
        if status != 200:
            await asyncio.sleep(0.5)
            continue
        old.cookie = visitor.cookie
        try:
            await asyncio.wait_for(old.connect(resume=old.session_id), 30)
        except Exception:
            await asyncio.sleep(0.5)
            continue
        if not old.session_id:  # its first render was cut off: the page asks for a run itself
            opened = await old.open()
            interactions.append(opened)
            if opened.ok:
                visitor.outcome, visitor.rendered_again_at = "rendered again", time.monotonic()
                return interactions
            await asyncio.sleep(0.5)
            continue
        reload = False
        try:
            async with asyncio.timeout(RELOAD_WAIT):
                while not reload:
                    message = ForwardMsg()
                    message.ParseFromString(await old.ws.recv())
                    reload = message.WhichOneof("type") == "auth_redirect"
        except TimeoutError:
            visitor.outcome = "stuck (no rerun, no reload)"
            await old.close()
            return interactions
        except Exception:  # the connection broke again: try again
            await asyncio.sleep(0.5)
            continue
        visitor.told_to_reload_at = time.monotonic()
        await old.close()
        # the reload: the page at its address (the filters in its query string), a new session
        opened = await arrive(proxy, visitor, old.query_string)
        interactions += visitor.session.interactions
        if opened.ok:
            visitor.outcome, visitor.rendered_again_at = "rendered again", time.monotonic()
        else:
            visitor.outcome = f"reload failed: {opened.error}"
        return interactions
    visitor.outcome = "gave up: no process answered"
    return interactions


async def browse(proxy: Proxy, visitor: Visitor, rng: random.Random, *, deadline: float,
                 think: float, ramp: float) -> list[Interaction]:
    """One tab: arrive, then change filters until `deadline`; if its process dies, come back."""
    await asyncio.sleep(ramp * rng.random())
    opened = await arrive(proxy, visitor)
    interactions = [opened]
    if not opened.ok and visitor.session.ws is not None and visitor.session.ws.close_code is not None:
        visitor.lost_at = time.monotonic()  # its process died during the first render
        interactions += await come_back(proxy, visitor, time.monotonic() + RECOVERY_TIMEOUT)
    if visitor.outcome not in ("", "rendered again") or not (opened.ok or visitor.outcome):
        return interactions
    for number in range(MAX_ROUNDS):
        if time.monotonic() > deadline:
            break
        session = visitor.session
        with contextlib.suppress(TimeoutError):  # thinking; a browser notices a close at once
            await asyncio.wait_for(session.ws.wait_closed(), think * rng.uniform(0.5, 1.5))
        keys = [k for k in FILTERS if k in session.widgets]
        if not keys:
            break
        if session.ws.close_code is None:
            key = keys[number % len(keys)]
            interaction = await session.change(key, session.pick(key, rng))
            interactions.append(interaction)
        if session.ws is not None and session.ws.close_code is not None:
            visitor.lost_at = time.monotonic()
            interactions += await come_back(proxy, visitor,
                                            time.monotonic() + RECOVERY_TIMEOUT)
            if visitor.outcome != "rendered again":
                break
    if visitor.session is not None:
        await visitor.session.close()
    return interactions


def _moves(proxy: Proxy, log_from: int = 0) -> dict:
    """From nginx's access log: websockets per process, and any that went elsewhere than the
    process their cookie named (a session moved)."""
    ports = proxy.worker_ports()
    sockets = [entry for entry in proxy.access_log()[log_from:]
               if entry["path"].startswith("/_stcore/stream")]
    named = [entry for entry in sockets if entry["worker"] in ports]
    by_worker: dict[str, int] = {}
    for entry in named:
        by_worker[entry["worker"]] = by_worker.get(entry["worker"], 0) + 1
    moved = [entry for entry in named
             if entry["upstream"].split(", ")[-1] != ports[entry["worker"]]]
    return {"websockets": len(sockets), "websockets_without_cookie": len(sockets) - len(named),
            "websockets_by_process": by_worker, "moved": len(moved),
            "moved_samples": moved[:5]}


async def load_through(proxy: Proxy, *, sessions: int, seconds: float, think: float,
                       ramp: float, seed: int, kill: str | None = None,
                       kill_after: float = 0.0) -> dict:
    """`sessions` tabs through the proxy for `seconds` (after `ramp`); optionally kill the app
    process `kill` (w1...) `kill_after` seconds into the measuring window."""
    log_from = len(proxy.access_log())
    visitors = [Visitor(number) for number in range(sessions)]
    started = time.monotonic()
    window_start = started + ramp
    deadline = window_start + seconds
    result: dict = {"sessions": sessions, "seconds": seconds, "think_s": think, "ramp_s": ramp,
                    "loadavg_before": loadavg()}

    async def killer() -> None:
        await asyncio.sleep(ramp + kill_after)
        pid = proxy.app_pid(kill)
        result["killed"] = {"process": kill, "pid": pid,
                            "its_visitors": sum(v.worker() == kill for v in visitors)}
        result["kill_at_s"] = round(time.monotonic() - started, 2)
        if pid:
            os.kill(pid, signal.SIGKILL)
        result["killed_at"] = time.monotonic()

    tasks = [browse(proxy, v, random.Random(seed + v.number), deadline=deadline, think=think,
                    ramp=ramp) for v in visitors]
    extra = [killer()] if kill else []
    batches = (await asyncio.gather(*tasks, *extra))[:sessions]
    result["wall_s"] = round(time.monotonic() - started, 2)
    result["loadavg_after"] = loadavg()
    interactions = [i for batch in batches for i in batch]
    result.update(summarize(interactions))
    window = [i for i in interactions
              if i.ok and window_start <= i.started + i.seconds <= deadline]
    result["interactions_per_s"] = _round(len(window) / seconds, 2)
    result["window_p50_s"] = _round(percentile([i.seconds for i in window], 50))
    result["window_p95_s"] = _round(percentile([i.seconds for i in window], 95))
    result["by_kind"] = {kind: {k: v for k, v in summarize(
        [i for i in interactions if i.kind.split(":")[0] == kind]).items()
        if k in ("interactions", "errors", "p50_s", "p95_s")} for kind in ("open", "filter")}
    result["visitors_by_first_process"] = {
        w: sum(v.first_worker == w for v in visitors) for w in sorted({v.first_worker
                                                                       for v in visitors})}
    result["proxy_log"] = _moves(proxy, log_from)
    if kill:
        killed_at = result.pop("killed_at", None)
        affected = [v for v in visitors if v.lost_at is not None]
        times = [v.rendered_again_at - killed_at for v in affected
                 if v.rendered_again_at is not None and killed_at is not None]
        outcomes: dict[str, int] = {}
        for v in affected:
            outcomes[v.outcome] = outcomes.get(v.outcome, 0) + 1
        result["affected_visitors"] = len(affected)
        result["outcomes"] = outcomes
        result["rendered_again"] = len(times)
        told = [v.told_to_reload_at - killed_at for v in affected
                if v.told_to_reload_at is not None and killed_at is not None]
        result["told_to_reload_after_kill_s"] = {
            "p50": _round(percentile(told, 50)), "max": _round(max(told) if told else None)}
        result["render_again_after_kill_s"] = {
            "p50": _round(percentile(times, 50)), "p95": _round(percentile(times, 95)),
            "max": _round(max(times) if times else None)}
        result["failed_renders_after_kill"] = sum(
            1 for i in interactions if not i.ok and killed_at is not None
            and i.started + i.seconds >= killed_at)
        result["reconnect_attempts"] = sum(v.reconnects for v in affected)
        # the killed process's websockets carry its name in the cookie until the visitor's
        # health ping names another one: those are moves by design (the process is gone)
    return result


# ---------------------------------------------------------------------------------------------
# the parts
# ---------------------------------------------------------------------------------------------


def run_scale(city: Path, *, sessions: int = 100, seconds: float = 60.0, think: float = 1.0,
              ramp: float = 10.0, work: Path, app_dir: Path = PROJECT) -> dict:
    result: dict = {}
    for workers in (1, 2):
        with serve_stack(city, workers, work / f"scale-{workers}", app_dir) as proxy:
            asyncio.run(_warm(proxy))
            result[f"{workers}_processes"] = asyncio.run(load_through(
                proxy, sessions=sessions, seconds=seconds, think=think, ramp=ramp, seed=311))
    one, two = (result[f"{n}_processes"]["interactions_per_s"] for n in (1, 2))
    result["speedup"] = _round(two / one, 2) if one and two else None
    result["target_speedup"] = 1.5
    result["target_p95_s"] = 3.0
    return result


async def _warm(proxy: Proxy) -> None:
    """One visitor per process first: imports and cold caches are not the load's."""
    for worker in proxy.worker_ports():
        visitor = Visitor(-1, cookie=f"{COOKIE}={worker}")
        await arrive(proxy, visitor)
        await visitor.session.close()


def run_kill(city: Path, *, sessions: int = 100, seconds: float = 40.0, think: float = 1.0,
             ramp: float = 5.0, kill_after: float = 10.0, work: Path,
             app_dir: Path = PROJECT) -> dict:
    with serve_stack(city, 2, work / "kill", app_dir) as proxy:
        asyncio.run(_warm(proxy))
        result = asyncio.run(load_through(proxy, sessions=sessions, seconds=seconds, think=think,
                                          ramp=ramp, seed=911, kill="w1", kill_after=kill_after))
    result["target_render_again_s"] = 10.0
    return result


def run_publish(city: Path, *, sessions: int = 5, work: Path, app_dir: Path = PROJECT) -> dict:
    from bench import swap

    copy = swap.copy_city(city.resolve(), work / "publish-city")
    with serve_stack(copy, 2, work / "publish", app_dir) as proxy:
        asyncio.run(_warm(proxy))
        log_from = len(proxy.access_log())
        servers = {w: Pinned(proxy.ws_url, f"{COOKIE}={w}") for w in proxy.worker_ports()}
        result = {"loadavg_before": loadavg()}
        started = time.monotonic()
        result.update(asyncio.run(swap.swap_async(servers, copy, app_dir, sessions=sessions)))
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["loadavg_after"] = loadavg()
        result["proxy_log"] = _moves(proxy, log_from)
    return result


PROXY_PARTS = ("scale", "kill", "publish")


def run_proxy(city_dir: Path | str, *, parts: tuple[str, ...] = PROXY_PARTS, sessions: int = 100,
              seconds: float = 60.0, app_dir: Path | str | None = None) -> dict:
    """The proxy part of `make bench`: each of `parts` on the city, through `civicstat serve`."""
    city = Path(city_dir).resolve()
    app_dir = Path(app_dir or PROJECT)
    result: dict = {"city": str(city), "requests": _requests(city), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="civicstat-proxy-") as scratch:
        work = Path(scratch)
        if "scale" in parts:
            result["scale"] = run_scale(city, sessions=sessions, seconds=seconds, work=work,
                                        app_dir=app_dir)
        if "kill" in parts:
            result["kill"] = run_kill(city, work=work, app_dir=app_dir)
        if "publish" in parts:
            result["publish"] = run_publish(city, work=work, app_dir=app_dir)
    return result


def _requests(city: Path) -> int | None:
    import duckdb

    with contextlib.suppress(Exception):
        con = duckdb.connect(str(city / "build" / "internal.duckdb"), read_only=True)
        try:
            return con.execute("select count(*) from requests").fetchone()[0]
        finally:
            con.close()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--city", required=True, help="a published city folder")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--parts", default=",".join(PROXY_PARTS))
    parser.add_argument("--out", help="also write the result (JSON) here")
    args = parser.parse_args(argv)
    result = run_proxy(args.city, parts=tuple(args.parts.split(",")), sessions=args.sessions,
                       seconds=args.seconds)
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
