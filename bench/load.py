"""Load test with real Streamlit sessions: websocket clients that speak Streamlit's own protocol.

Each simulated visitor opens ws://127.0.0.1:PORT/_stcore/stream the way Streamlit 1.67's frontend
does (subprotocols ["streamlit", <xsrf token or placeholder>], binary protobuf frames), sends
BackMsg.rerun_script with a ClientState (query string, page, widget states, the hashes of the
messages it has cached), and reads ForwardMsgs (new_session, deltas, ref_hash, script_finished...)
until the run finishes. One "interaction" = one rerun, timed from sending it to script_finished.

    python -m bench.load --city /tmp/loadcity --sessions 50           # load test
    python -m bench.load --city /tmp/loadcity --soak 600 --sessions 20  # soak, sessions come and go
    python -m bench.load --port 8501 --pid 1234 --sessions 10         # against a running server
    python -m bench.load --city DIR --option runner.postScriptGC=false  # a Streamlit option

Function API (for bench/run.py): run_load(city_dir, sessions=50, ...) and
run_soak(city_dir, seconds=600, ...) return dicts of numbers (p50/p95/max seconds, errors,
RSS samples, server CPU seconds); session_memory_async(server, sessions=50) measures what an
open session costs. serve() starts a server; StreamlitSession is one tab, usable on its own.
Only 127.0.0.1 is ever targeted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only host this client ever connects to
PLACEHOLDER_XSRF = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no token
INTERACTION_TIMEOUT = 120.0  # seconds one rerun may take before it counts as an error
MAX_MESSAGES_PER_RUN = 20_000  # bound on ForwardMsgs read for one rerun
FILTERS = ("period", "department")  # widget keys (= query parameters) a visitor changes
OVERVIEW_MARKER = "Requests received"  # a KPI label the Overview always renders


# ---------------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A `streamlit run app.py` process (started here, or an existing one given by port/pid)."""

    port: int
    pid: int | None
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/_stcore/stream"

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid) if self.pid else None

    def log_tail(self, chars: int = 3000) -> str:
        if self.log and self.log.exists():
            return self.log.read_text(errors="replace")[-chars:]
        return ""


def rss_mb(pid: int) -> float | None:
    """Resident set size of a process, in MB (VmRSS from /proc; None once it has exited)."""
    return _proc_status_kb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float | None:
    """High-water mark of the process's RSS (VmHWM), in MB."""
    return _proc_status_kb(pid, "VmHWM")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_status_kb(pid: int, field_name: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


@contextlib.contextmanager
def serve(
    city_dir: Path | str,
    *,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    startup_timeout: float = 90.0,
    app_dir: Path | str | None = None,
    server_options: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start `python -m streamlit run app.py` for a city on 127.0.0.1; stop it afterwards.

    `app_dir`: the project folder holding app.py (default: this checkout).
    `server_options`: Streamlit config options for this run, e.g. {"runner.postScriptGC": "false"}.
    `log_dir`: where the server's log is kept; by default a temporary file, removed afterwards.
    """
    app_dir = Path(app_dir or PROJECT)
    port = port or free_port()
    env = {**os.environ, "CIVICSTAT_CITY": str(Path(city_dir).resolve()), **(extra_env or {})}
    keep_log = log_dir is not None
    log_dir = Path(log_dir) if keep_log else Path(tempfile.mkdtemp(prefix="civicstat-load-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"streamlit-{port}.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app_dir / "app.py"),
             "--server.port", str(port), "--server.headless", "true",
             "--server.address", HOST, "--browser.gatherUsageStats", "false",
             *[arg for key, value in (server_options or {}).items() for arg in (f"--{key}", value)]],
            cwd=app_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    server = Server(port=port, pid=process.pid, process=process, log=log)
    try:
        wait_healthy(server, startup_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if not keep_log:
            shutil.rmtree(log_dir, ignore_errors=True)


def wait_healthy(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s:\n{server.log_tail()}")


# ---------------------------------------------------------------------------------------------
# one session
# ---------------------------------------------------------------------------------------------


@dataclass
class Interaction:
    """One rerun: what was asked, how long it took, what came back."""

    kind: str  # "open" or "filter:<key>"
    started: float  # time.monotonic() when the rerun was sent
    seconds: float
    ok: bool
    error: str | None = None
    bytes_received: int = 0
    messages: int = 0
    deltas: int = 0
    ref_hits: int = 0  # elements the server sent as a reference to our cache


@dataclass
class Widget:
    id: str
    kind: str  # "selectbox" or "button_group"
    label: str
    options: list[str]
    value: str | None
    query_param_key: str | None


@dataclass
class RunResult:
    """What one script run rendered (the parts the checks need)."""

    status: str = ""
    page: str = ""  # the page st.navigation ran
    texts: list[str] = field(default_factory=list)  # headings, markdown, captions, metric labels
    metrics: dict[str, str] = field(default_factory=dict)  # metric label -> shown value
    errors: list[str] = field(default_factory=list)  # exception elements, st.error, page not found
    warnings: list[str] = field(default_factory=list)
    element_types: dict[str, int] = field(default_factory=dict)
    query_updates: list[str] = field(default_factory=list)  # page_info_changed query strings


class StreamlitSession:
    """A websocket client that behaves like Streamlit's frontend for one browser tab."""

    def __init__(self, ws_url: str, *, query_string: str = "", page_name: str = "",
                 use_message_cache: bool = True, interaction_timeout: float = INTERACTION_TIMEOUT,
                 cookie: str = ""):
        # any port on 127.0.0.1: an app process, or `civicstat serve`'s nginx in front of several
        if urllib.parse.urlsplit(ws_url).hostname != HOST:
            raise ValueError(f"only {HOST} may be targeted, not {ws_url}")
        self.ws_url = ws_url
        self.cookie = cookie  # "civicstat_worker=w1" through the proxy: the tab's sticky cookie
        self.query_string = query_string
        self.page_name = page_name
        self.page_script_hash = ""
        self.use_message_cache = use_message_cache
        self.interaction_timeout = interaction_timeout
        self.ws = None
        self.widgets: dict[str, Widget] = {}  # by widget key (query_param_key) or id
        self.cache: dict[str, tuple[bytes, int]] = {}  # hash -> (serialized msg, run count)
        self.max_cached_message_age = 2
        self.run_count = 0
        self.last: RunResult | None = None
        self.interactions: list[Interaction] = []
        self.downloads: dict[str, str] = {}  # download button label -> deferred file id
        self.links: dict[str, str] = {}  # link button label -> URL
        self.session_id = ""  # the server's id for this session (new_session)

    async def connect(self, timeout: float = 30.0, *, resume: str = "") -> None:
        """Open the websocket; `resume`: the session id a reconnecting frontend asks for."""
        import websockets

        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit", PLACEHOLDER_XSRF, *([resume] if resume else [])],
            max_size=None,  # a pydeck map or a dataframe can exceed websockets' 1 MiB default
            open_timeout=timeout,
            compression=None,  # Streamlit's server does not negotiate permessage-deflate
            additional_headers={"Cookie": self.cookie} if self.cookie else None,
        )

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 10)
            self.ws = None

    # -- the rerun ----------------------------------------------------------------------------

    def _back_msg(self, widget_states) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page_name if not self.page_script_hash else ""
        if widget_states is not None:
            state.widget_states.CopyFrom(widget_states)
        if self.use_message_cache:
            state.cached_message_hashes.extend(self.cache)
        info = state.context_info
        info.timezone = "America/New_York"
        info.timezone_offset = 240
        info.locale = "en-US"
        info.url = f"http://{HOST}/" + (f"?{self.query_string}" if self.query_string else "")
        return msg.SerializeToString()

    def _widget_states(self):
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        for widget in self.widgets.values():
            state = states.widgets.add()
            state.id = widget.id
            if widget.value is None:
                continue  # the frontend's null: an id without a value (back to the default)
            if widget.kind == "selectbox":
                state.string_value = widget.value
            else:  # button_group (segmented control): the chosen options' labels
                state.string_array_value.data.append(widget.value)
        return states

    async def rerun(self, kind: str) -> Interaction:
        """Send one rerun with the current query string and widget states; wait for the end."""
        payload = self._back_msg(self._widget_states() if self.widgets else None)
        started = time.monotonic()
        interaction = Interaction(kind=kind, started=started, seconds=0.0, ok=False)
        try:
            await self.ws.send(payload)
            result = await asyncio.wait_for(self._read_run(interaction), self.interaction_timeout)
            self.last = result
            interaction.ok = not result.errors
            if result.errors:
                interaction.error = "; ".join(result.errors)[:500]
        except TimeoutError:
            interaction.error = f"no script_finished within {self.interaction_timeout:.0f} s"
        except Exception as error:  # connection closed, protocol error: one failed interaction
            interaction.error = f"{type(error).__name__}: {error}"[:500]
        interaction.seconds = time.monotonic() - started
        self.interactions.append(interaction)
        return interaction

    async def _read_run(self, interaction: Interaction) -> RunResult:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        result = RunResult()
        seen_new_session = False
        for _ in range(MAX_MESSAGES_PER_RUN):
            data = await self.ws.recv()
            interaction.bytes_received += len(data)
            interaction.messages += 1
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":
                cached = self.cache.get(msg.ref_hash)
                if cached is None:
                    result.errors.append(f"cache miss for ref_hash {msg.ref_hash}")
                    continue
                interaction.ref_hits += 1
                metadata = ForwardMsg()
                metadata.metadata.CopyFrom(msg.metadata)
                msg = ForwardMsg()
                msg.ParseFromString(cached[0])
                msg.metadata.CopyFrom(metadata.metadata)
                self.cache[msg.hash] = (cached[0], self.run_count)
                kind = msg.WhichOneof("type")
            elif msg.metadata.cacheable and msg.hash:
                self.cache[msg.hash] = (data, self.run_count)
            if kind == "new_session":
                seen_new_session = True
                self.session_id = msg.new_session.initialize.session_id
                self.page_script_hash = msg.new_session.page_script_hash
                self.max_cached_message_age = msg.new_session.config.max_cached_message_age or 2
            elif kind == "navigation":
                # st.navigation tells the frontend which page it is on (the new_session hash is
                # the router's); the next rerun must name that page or it is a page change
                self.page_script_hash = msg.navigation.page_script_hash
                result.page = next((p.page_name for p in msg.navigation.app_pages
                                    if p.page_script_hash == self.page_script_hash), "")
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
                result.query_updates.append(self.query_string)
            elif kind == "page_not_found":
                result.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "session_event":
                if msg.session_event.HasField("script_compilation_exception"):
                    exc = msg.session_event.script_compilation_exception
                    result.errors.append(f"compilation error: {exc.type}: {exc.message}")
            elif kind == "delta":
                interaction.deltas += 1
                self._read_delta(msg.delta, result)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN" or not seen_new_session:
                    continue  # the end of an earlier run: ours is still to come
                result.status = status
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    result.errors.append("script finished with a compile error")
                self._age_cache()
                return result
        raise RuntimeError(f"more than {MAX_MESSAGES_PER_RUN} messages in one run")

    def _age_cache(self) -> None:
        """Forget cached messages not used for max_cached_message_age runs, as the frontend does."""
        self.run_count += 1
        for key, (_, last_used) in list(self.cache.items()):
            if self.run_count - last_used > self.max_cached_message_age:
                del self.cache[key]

    def _read_delta(self, delta, result: RunResult) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        etype = element.WhichOneof("type")
        result.element_types[etype] = result.element_types.get(etype, 0) + 1
        if etype == "exception":
            text = f"{element.exception.type}: {element.exception.message}"
            (result.warnings if element.exception.is_warning else result.errors).append(text)
        elif etype == "alert":
            from streamlit.proto.Alert_pb2 import Alert

            if element.alert.format == Alert.ERROR:
                result.errors.append(f"st.error: {element.alert.body[:200]}")
            else:
                result.texts.append(element.alert.body)
        elif etype == "link_button":
            self.links[element.link_button.label] = element.link_button.url
        elif etype == "download_button" and element.download_button.deferred_file_id:
            self.downloads[element.download_button.label] = element.download_button.deferred_file_id
        elif etype == "metric":
            result.metrics[element.metric.label] = element.metric.body
            result.texts.append(element.metric.label)
        elif etype == "heading":
            result.texts.append(element.heading.body)
        elif etype == "markdown":
            result.texts.append(element.markdown.body)
        elif etype == "selectbox":
            box = element.selectbox
            widget = self.widgets.get(box.query_param_key or box.id)
            if box.set_value:
                value = box.raw_value if box.HasField("raw_value") else None
            elif widget is not None and widget.id == box.id:
                value = widget.value
            else:
                value = box.options[box.default] if box.HasField("default") else None
            key = box.query_param_key or box.id
            self.widgets[key] = Widget(box.id, "selectbox", box.label, list(box.options), value,
                                       box.query_param_key or None)
        elif etype == "button_group":
            group = element.button_group
            labels = [option.content for option in group.options]
            widget = self.widgets.get(group.query_param_key or group.id)
            if group.set_value:
                value = group.raw_values[0] if group.raw_values else None
            elif widget is not None and widget.id == group.id:
                value = widget.value
            else:
                value = labels[group.default[0]] if group.default else None
            key = group.query_param_key or group.id
            self.widgets[key] = Widget(group.id, "button_group", group.label, labels, value,
                                       group.query_param_key or None)

    # -- what a visitor does -----------------------------------------------------------------

    async def open(self) -> Interaction:
        """The first render of the page (the browser's initial rerun, no widget states)."""
        return await self.rerun("open")

    async def change(self, key: str, value: str | None) -> Interaction:
        """Pick `value` in the widget bound to query parameter `key`; rerun like the frontend."""
        widget = self.widgets[key]
        widget.value = value
        if widget.query_param_key:
            params = [(k, v) for k, v in urllib.parse.parse_qsl(self.query_string) if k != key]
            if value is not None:
                params.append((key, value))
            self.query_string = urllib.parse.urlencode(params)
        return await self.rerun(f"filter:{key}")

    async def download(self, label: str) -> tuple[Interaction, bytes]:
        """Press the download button `label` (its file made on the click, as st.download_button
        with a callable does): ask the server for the file's URL, then fetch it over HTTP."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async def fetch() -> bytes:
            msg = BackMsg()
            request = msg.backend_operation_request
            request.request_id = f"download-{len(self.interactions)}"
            request.session_id = self.session_id
            request.deferred_file.file_id = self.downloads[label]
            await self.ws.send(msg.SerializeToString())

            async def answer() -> str:
                while True:
                    reply = ForwardMsg.FromString(await self.ws.recv())
                    if reply.WhichOneof("type") == "backend_operation_response" and \
                            reply.backend_operation_response.request_id == request.request_id:
                        response = reply.backend_operation_response
                        if response.error_msg:
                            raise RuntimeError(response.error_msg)
                        return response.deferred_file.url

            path = await asyncio.wait_for(answer(), self.interaction_timeout)
            return await asyncio.to_thread(_http_get, self._http_base() + path)

        return await self._timed(f"download:{label}", fetch)

    async def follow(self, label: str) -> tuple[Interaction, bytes]:
        """Follow the link button `label` (a URL relative to the app, as the browser would)."""
        async def fetch() -> bytes:
            url = urllib.parse.urljoin(self._http_base() + "/", self.links[label])
            return await asyncio.to_thread(_http_get, url)

        return await self._timed(f"link:{label}", fetch)

    def _http_base(self) -> str:
        return self.ws_url.replace("ws://", "http://").split("/_stcore/")[0]

    async def _timed(self, kind: str, fetch) -> tuple[Interaction, bytes]:
        """Run `fetch` (a file's bytes) as one timed interaction; a failure is a failed one."""
        started = time.monotonic()
        interaction = Interaction(kind=kind, started=started, seconds=0.0, ok=False)
        body = b""
        try:
            body = await fetch()
            interaction.ok, interaction.bytes_received = True, len(body)
        except Exception as error:  # a failed download is a failed interaction
            interaction.error = f"{type(error).__name__}: {error}"[:500]
        interaction.seconds = time.monotonic() - started
        self.interactions.append(interaction)
        return interaction, body

    def pick(self, key: str, rng: random.Random) -> str | None:
        """A different value for a filter (the period never becomes "Custom dates")."""
        widget = self.widgets[key]
        options = [o for o in widget.options if o != widget.value and not o.startswith("Custom")]
        return rng.choice(options) if options else widget.value


# ---------------------------------------------------------------------------------------------
# visitors and the statistics
# ---------------------------------------------------------------------------------------------


def _http_get(url: str, timeout: float = 120.0) -> bytes:
    if urllib.parse.urlsplit(url).hostname != HOST:
        raise ValueError(f"only {HOST} may be fetched, not {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local server)
        return response.read()


async def visit(ws_url: str, rng: random.Random, *, changes: int = 2, think: float = 1.0,
                query_string: str = "", deadline: float | None = None) -> list[Interaction]:
    """One visitor: connect, open the Overview, change `changes` filters (think time between)."""
    session = StreamlitSession(ws_url, query_string=query_string)
    try:
        await asyncio.wait_for(session.connect(), 30)
    except Exception as error:
        return [Interaction("connect", time.monotonic(), 0.0, False, f"{type(error).__name__}: {error}")]
    try:
        opened = await session.open()
        if opened.ok and OVERVIEW_MARKER not in (session.last.texts if session.last else []):
            opened.ok, opened.error = False, f"{OVERVIEW_MARKER!r} not rendered"
        for number in range(changes):
            if not opened.ok or (deadline and time.monotonic() > deadline):
                break
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            keys = [k for k in FILTERS if k in session.widgets]
            if not keys:
                break
            key = keys[number % len(keys)]
            await session.change(key, session.pick(key, rng))
    finally:
        await session.close()
    return session.interactions


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(interactions: list[Interaction]) -> dict:
    """p50/p95/max seconds of the successful interactions, error count and samples, bytes."""
    times = [i.seconds for i in interactions if i.ok]
    errors = [i for i in interactions if not i.ok]
    return {
        "interactions": len(interactions),
        "ok": len(times),
        "errors": len(errors),
        "error_samples": sorted({f"{i.kind}: {i.error}" for i in errors})[:10],
        "p50_s": _round(percentile(times, 50)),
        "p95_s": _round(percentile(times, 95)),
        "max_s": _round(max(times) if times else None),
        "mean_s": _round(statistics.fmean(times) if times else None),
        "median_kb_received": _round(
            percentile([i.bytes_received / 1024 for i in interactions if i.ok], 50), 1
        ),
        "ref_hits": sum(i.ref_hits for i in interactions),
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


class RssSampler:
    """Samples a process's RSS every `interval` seconds in the background (bounded count)."""

    def __init__(self, pid: int | None, interval: float, max_samples: int = 100_000):
        self.pid = pid
        self.interval = interval
        self.max_samples = max_samples
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)
        self.t0 = time.monotonic()
        self._task: asyncio.Task | None = None
        self.cpu0: float | None = None
        self.cpu_used: float | None = None  # server CPU seconds between start() and stop()

    def sample(self) -> None:
        if self.pid:
            value = rss_mb(self.pid)
            if value is not None and len(self.samples) < self.max_samples:
                self.samples.append((round(time.monotonic() - self.t0, 1), round(value, 1)))

    async def _loop(self) -> None:
        for _ in range(self.max_samples):
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.cpu0 = cpu_seconds(self.pid) if self.pid else None
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        cpu1 = cpu_seconds(self.pid) if self.pid else None
        self.cpu_used = None if cpu1 is None or self.cpu0 is None else cpu1 - self.cpu0

    def summary(self) -> dict:
        values = [mb for _, mb in self.samples]
        return {
            "server_cpu_s": _round(self.cpu_used, 2),
            "rss_start_mb": values[0] if values else None,
            "rss_end_mb": values[-1] if values else None,
            "rss_peak_mb": max(values) if values else None,
            "rss_peak_hwm_mb": _round(peak_rss_mb(self.pid), 1) if self.pid else None,
            "rss_samples": self.samples,
        }


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of RSS over time, in MB per minute."""
    if len(samples) < 2:
        return None
    xs = [t for t, _ in samples]
    ys = [mb for _, mb in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 60


# ---------------------------------------------------------------------------------------------
# the load test and the soak
# ---------------------------------------------------------------------------------------------


async def load_async(server: Server, *, sessions: int = 50, changes: int = 2, think: float = 1.0,
                     ramp: float = 2.0, seed: int = 311, rss_interval: float = 1.0,
                     warmup: bool = True) -> dict:
    """`sessions` visitors at once (started over `ramp` seconds), each: open + `changes` filters."""
    result: dict = {"sessions": sessions, "changes": changes, "think_s": think,
                    "loadavg_before": os.getloadavg()[0]}
    if warmup:  # one visitor first, so the cold first render is measured on its own
        cold = await visit(server.ws_url, random.Random(seed - 1), changes=0)
        result["cold_open_s"] = _round(cold[0].seconds) if cold else None
        result["cold_open_ok"] = bool(cold and cold[0].ok)
    sampler = RssSampler(server.pid, rss_interval)
    sampler.start()
    started = time.monotonic()

    async def one(number: int) -> list[Interaction]:
        await asyncio.sleep(ramp * number / max(sessions, 1))
        return await visit(server.ws_url, random.Random(seed + number), changes=changes,
                           think=think)

    batches = await asyncio.gather(*(one(n) for n in range(sessions)))
    result["wall_s"] = round(time.monotonic() - started, 2)
    await sampler.stop()
    result["loadavg_after"] = os.getloadavg()[0]
    interactions = [i for batch in batches for i in batch]
    result.update(summarize(interactions))
    result["by_kind"] = {
        kind: summarize([i for i in interactions if i.kind.split(":")[0] == kind])
        for kind in ("open", "filter")
    }
    result.update(sampler.summary())
    if result["server_cpu_s"] is not None and interactions:
        result["server_cpu_s_per_interaction"] = round(result["server_cpu_s"] / len(interactions), 3)
    return result


async def soak_async(server: Server, *, seconds: float = 600, sessions: int = 20,
                     think: float = 1.0, seed: int = 311, rss_interval: float = 5.0,
                     max_changes: int = 4) -> dict:
    """For `seconds`, keep about `sessions` visitors alive; each does 1 + 1..max_changes reruns,
    then closes and a new one starts. RSS every `rss_interval` s, timings per minute."""
    rng = random.Random(seed)
    # one visitor first: the app's imports and the first connection are not a leak
    warm = await visit(server.ws_url, random.Random(seed - 1), changes=0)
    sampler = RssSampler(server.pid, rss_interval)
    sampler.start()
    started = time.monotonic()
    deadline = started + seconds
    interactions: list[Interaction] = []
    visitors = 0
    max_visitors = 100_000  # hard bound on the number of sessions a soak may open

    async def slot(number: int) -> None:
        nonlocal visitors
        await asyncio.sleep(think * number / max(sessions, 1))  # stagger the first wave
        while time.monotonic() < deadline and visitors < max_visitors:
            visitors += 1
            visitor_rng = random.Random(rng.random())
            interactions.extend(await visit(
                server.ws_url, visitor_rng, changes=visitor_rng.randint(1, max_changes),
                think=think, deadline=deadline,
            ))

    slots = [asyncio.create_task(slot(n)) for n in range(sessions)]
    # visitors stop starting at the deadline; the ones in flight get a bounded time to finish
    done, pending = await asyncio.wait(slots, timeout=seconds + INTERACTION_TIMEOUT + 30)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await sampler.stop()
    result: dict = {"seconds": seconds, "sessions_alive": sessions, "visitors": visitors,
                    "warmup_open_s": _round(warm[0].seconds) if warm else None,
                    "wall_s": round(time.monotonic() - started, 1),
                    "loadavg_1min_end": os.getloadavg()[0]}
    result.update(summarize(interactions))
    per_minute = []
    for minute in range(int(seconds // 60) + 1):
        bucket = [i for i in interactions if minute <= (i.started - started) / 60 < minute + 1]
        if bucket:
            summary = summarize(bucket)
            per_minute.append({"minute": minute, **{k: summary[k] for k in (
                "interactions", "errors", "p50_s", "p95_s", "max_s")}})
    result["per_minute"] = per_minute
    result.update(sampler.summary())
    samples = sampler.samples
    half = len(samples) // 2
    first = slope_mb_per_min(samples[:half])
    last = slope_mb_per_min(samples[half:])
    result["rss_slope_first_half_mb_per_min"] = _round(first, 2)
    result["rss_slope_last_half_mb_per_min"] = _round(last, 2)
    # "levels off": the second half grows by at most 1 MB/min, or at most a quarter of the first
    result["rss_levels_off"] = (
        None if last is None else bool(last <= 1.0 or (first is not None and last <= first / 4))
    )
    return result


async def session_memory_async(server: Server, *, sessions: int = 50, settle: float = 3.0) -> dict:
    """RSS with `sessions` idle sessions open (each has rendered the Overview once), and after
    they close: what one open session costs the server, and whether closing gives it back."""
    await visit(server.ws_url, random.Random(0), changes=0)  # warm caches first
    await asyncio.sleep(settle)
    before = rss_mb(server.pid)
    held: list[StreamlitSession] = []
    for _ in range(sessions):  # one at a time: memory, not concurrency, is measured here
        session = StreamlitSession(server.ws_url)
        await asyncio.wait_for(session.connect(), 30)
        opened = await session.open()
        held.append(session)
        if not opened.ok:
            break
    await asyncio.sleep(settle)
    with_sessions = rss_mb(server.pid)
    for session in held:
        await session.close()
    await asyncio.sleep(settle * 2)
    after_close = rss_mb(server.pid)
    per_session = None
    if before is not None and with_sessions is not None and held:
        per_session = round((with_sessions - before) / len(held), 2)
    return {"sessions_held": len(held), "rss_before_mb": before, "rss_with_sessions_mb": with_sessions,
            "rss_after_close_mb": after_close, "mb_per_session": per_session}


def _attached(port: int, pid: int | None) -> Server:
    server = Server(port=port, pid=pid)
    wait_healthy(server, 10)
    return server


def run_load(city_dir: Path | str | None = None, sessions: int = 50, *, changes: int = 2,
             think: float = 1.0, ramp: float = 2.0, seed: int = 311, port: int | None = None,
             pid: int | None = None, warmup: bool = True,
             app_dir: Path | str | None = None,
             server_options: dict[str, str] | None = None) -> dict:
    """Load test: start a server for `city_dir` (or use the one at 127.0.0.1:`port`, RSS of
    `pid`), run `sessions` concurrent visitors, return p50/p95/max, errors and RSS."""
    if city_dir is None:
        server = _attached(port, pid)
        return asyncio.run(load_async(server, sessions=sessions, changes=changes, think=think,
                                      ramp=ramp, seed=seed, warmup=warmup))
    with serve(city_dir, port=port, app_dir=app_dir, server_options=server_options) as server:
        result = asyncio.run(load_async(server, sessions=sessions, changes=changes, think=think,
                                        ramp=ramp, seed=seed, warmup=warmup))
        result["server_rss_after_mb"] = server.rss_mb()
        if result["errors"]:
            result["server_log_tail"] = server.log_tail(3000)
        return result


def run_soak(city_dir: Path | str | None = None, seconds: float = 600, *, sessions: int = 20,
             think: float = 1.0, seed: int = 311, rss_interval: float = 5.0,
             port: int | None = None, pid: int | None = None,
             app_dir: Path | str | None = None,
             server_options: dict[str, str] | None = None) -> dict:
    """Soak: visitors come and go for `seconds`; RSS over time and its slope, timings per minute."""
    if city_dir is None:
        server = _attached(port, pid)
        return asyncio.run(soak_async(server, seconds=seconds, sessions=sessions, think=think,
                                      seed=seed, rss_interval=rss_interval))
    with serve(city_dir, port=port, app_dir=app_dir, server_options=server_options) as server:
        result = asyncio.run(soak_async(server, seconds=seconds, sessions=sessions, think=think,
                                        seed=seed, rss_interval=rss_interval))
        if result["errors"]:
            result["server_log_tail"] = server.log_tail(3000)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--city", help="city folder (a server is started for it)")
    parser.add_argument("--port", type=int, help="an already running server on 127.0.0.1:PORT")
    parser.add_argument("--pid", type=int, help="that server's PID (for its RSS)")
    parser.add_argument("--sessions", type=int, help="concurrent sessions (default 50; soak 20)")
    parser.add_argument("--changes", type=int, default=2, help="filter changes per session")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between interactions")
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="soak for SECONDS instead")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--app-dir", help="project folder holding app.py (default: this one)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a Streamlit config option for the server, e.g. runner.postScriptGC=false")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args(argv)
    if not args.city and not args.port:
        parser.error("give --city DIR, or --port (and --pid) of a running server")
    city = args.city if args.city else None
    options = dict(option.split("=", 1) for option in args.option) or None
    if args.soak:
        result = run_soak(city, args.soak, sessions=args.sessions or 20, think=args.think,
                          seed=args.seed, port=args.port, pid=args.pid, app_dir=args.app_dir,
                          server_options=options)
    else:
        result = run_load(city, args.sessions or 50, changes=args.changes, think=args.think,
                          seed=args.seed, port=args.port, pid=args.pid, app_dir=args.app_dir,
                          server_options=options)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(format_result(result))
    return 0 if result["errors"] == 0 else 1


def format_result(result: dict) -> str:
    lines = []
    for key, value in result.items():
        if key == "rss_samples":
            values = [mb for _, mb in value]
            step = max(1, len(values) // 20)
            lines.append(f"rss_samples (MB, every {step}th): {values[::step]}")
        elif key == "per_minute":
            lines.append("per minute:")
            lines += [f"  {row}" for row in value]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
