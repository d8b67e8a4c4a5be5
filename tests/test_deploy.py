"""The shipped deployment, for real: `civicstat serve` starts nginx (configured from deploy/nginx/)
in front of two app processes on a small city, and everything is checked through the proxy: pages
render in Chromium under the content security policy, frame protection and the other headers,
/_stcore/metrics blocked, static JavaScript compressed and cached for a year, the websocket, one
visitor staying on one process, and Ctrl-C leaving no process behind. Skipped without nginx
(apt-get install nginx-light libnginx-mod-http-brotli-filter), a failure in CI."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from civicstat.cli.serve import NGINX_PACKAGES, brotli_module, find_nginx
from civicstat.publish.build import publish

from browser_support import (
    ARTIFACTS,
    chromium,
    free_port,
    submit_sign_in,
    wait_for_app,
    wait_for_charts,
)
from smallcity import make_small_city

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
# The favicon: app.py's page_icon=":material/analytics:" makes Streamlit's frontend load the icon
# from fonts.gstatic.com, which the policy rightly refuses (no visitor's browser is sent to a
# third party). The one violation tolerated until app.py ships its icon itself.
FAVICON = "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e =>
    (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI))"""


def nginx_path() -> str:
    path = find_nginx()
    if path is None:
        message = f"nginx not found (apt-get install {NGINX_PACKAGES})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must have it (.ci/run installs it)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    nginx_path()
    root = tmp_path_factory.mktemp("deploycity")
    publish(make_small_city(root))
    return root


@contextlib.contextmanager
def running_stack(city: Path, run_dir: Path, workers: int = 2, env: dict | None = None):
    """`civicstat serve` as a subprocess on a free port; yields (process, base url)."""
    port = free_port()
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "serve.out", "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "civicstat.cli.main", "serve", str(city), "--workers",
             str(workers), "--port", str(port), "--address", "127.0.0.1", "--run-dir", str(run_dir)],
            cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while (run_dir / "serve.out").read_text().find("Ctrl-C stops them all") < 0:
            assert process.poll() is None, (run_dir / "serve.out").read_text()
            assert time.monotonic() < deadline, "the stack did not start in 120 s"
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        ARTIFACTS.mkdir(exist_ok=True)
        for log in run_dir.glob("*.log"):
            shutil.copy(log, ARTIFACTS / f"deploy-{log.name}")


STAFF_NAME, STAFF_PASSWORD = "deploy-admin", "a password for the deploy test"


@pytest.fixture(scope="module")
def stack(small_city, tmp_path_factory):
    """The stack, with one built-in admin account (its secrets file passed to every process)."""
    from civicstat.accounts.passwords import hash_password

    run_dir = tmp_path_factory.mktemp("deployrun")
    secrets_file = run_dir.parent / "deploy-secrets.toml"
    secrets_file.write_text(f'[civicstat.users.{STAFF_NAME}]\nrole = "admin"\n'
                            f'password_hash = "{hash_password(STAFF_PASSWORD)}"\n')
    secrets_file.chmod(0o600)
    with running_stack(small_city, run_dir, env={"STREAMLIT_SECRETS_FILES": str(secrets_file)}) \
            as (process, url):
        yield {"url": url, "run_dir": run_dir, "process": process}


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def worker_ports(run_dir: Path) -> dict[str, str]:
    """w1 -> "127.0.0.1:PORT", from the rendered configuration."""
    text = (run_dir / "nginx.conf").read_text()
    return dict(re.findall(r"upstream civicstat_(w\d+) \{\s*server (\S+) ", text))


def access_log(run_dir: Path) -> list[dict]:
    lines = (run_dir / "access.log").read_text().splitlines()
    pattern = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ '
                         r"upstream=(?P<upstream>.*) worker=(?P<worker>\S+)$")
    return [match.groupdict() for line in lines if (match := pattern.search(line))]


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("site_file", ["nginx/civicstat.conf", "container/nginx-compose.conf",
                                       "kubernetes/nginx-pod.conf"])
def test_shipped_site_files_pass_nginx_t(tmp_path, site_file):
    """Each shipped site (a systemd host's, compose's proxy, a Kubernetes pod's) with the
    snippets, as nginx -t reads them: a typo in a shipped file fails here, not on a city's
    server. (compose's host names, resolved when nginx starts, stand for 127.0.0.1 here.)"""
    nginx = nginx_path()
    shutil.copytree(DEPLOY / "nginx" / "snippets", tmp_path / "snippets")
    (tmp_path / "tmp").mkdir()
    module = brotli_module(nginx)
    site = re.sub(r"\bapp\d+:", "127.0.0.1:", (DEPLOY / site_file).read_text())
    site = site.replace("listen [::]:80;", "")  # a test machine may have no IPv6
    if module is None:  # the site's brotli include needs the module
        site = site.replace("include snippets/civicstat-brotli.conf;", "")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        (f"load_module {module};\n" if module else "")
        + f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
        + "".join(f"    {kind}_temp_path {tmp_path}/tmp/{kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_metrics_blocked_health_answers_headers_sent(stack):
    status, headers, _ = fetch(stack["url"] + "/_stcore/metrics")
    assert status == 404
    # ...while each app process serves it (the block is the proxy's)
    direct = next(iter(worker_ports(stack["run_dir"]).values()))
    assert fetch(f"http://{direct}/_stcore/metrics")[0] == 200
    assert fetch(stack["url"] + "/_stcore/health")[:3:2] == (200, b"ok")
    status, headers, body = fetch(stack["url"] + "/")
    assert status == 200 and b"<html" in body.lower()
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert re.match(r"civicstat_worker=w\d; Path=/; HttpOnly; SameSite=Lax$", headers["set-cookie"])


def test_static_javascript_is_compressed_and_cached_for_a_year(stack):
    _, _, html = fetch(stack["url"] + "/")
    scripts = re.findall(rb'src="\./(static/js/[^"]+\.js)"', html)
    assert scripts, html[:500]
    status, headers, body = fetch(f"{stack['url']}/{scripts[0].decode()}",
                                  {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    plain = gzip.decompress(body)
    assert len(body) < len(plain) / 2
    assert "immutable" in headers["cache-control"]
    assert int(re.search(r"max-age=(\d+)", headers["cache-control"]).group(1)) >= 31_536_000
    assert "set-cookie" not in headers  # shared caches may keep it
    if brotli_module(nginx_path()):
        _, headers, _ = fetch(f"{stack['url']}/{scripts[0].decode()}", {"Accept-Encoding": "br"})
        assert headers.get("content-encoding") == "br"


@pytest.mark.browser
def test_pages_render_under_the_policy_over_the_websocket_on_one_process(stack):
    """Two visitors in Chromium: each page renders (charts and maps drawn) with no content
    security policy violation; the websocket is upgraded; every request of each visitor goes to
    the process their cookie names."""
    pages = {"": (3, 1), "map": (0, 1), "trends": (3, 0), "districts": (1, 1), "open-data": (0, 0),
             "about": (0, 0), "account": (0, 0)}  # every public page, and the staff sign-in
    with chromium() as browser:
        visitors = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(2)]
        violations, workers = [], []
        for number, context in enumerate(visitors):
            context.add_init_script(CSP_LISTENER)
            page = context.new_page()
            for path, (plotly, decks) in pages.items():
                if number == 1 and path != "":  # the second visitor: one page is enough
                    continue
                page.goto(f"{stack['url']}/{path}")
                page.wait_for_selector("h1", timeout=60_000)
                wait_for_app(page)
                wait_for_charts(page, plotly=plotly, decks=decks)
                violations += [f"/{path}: {v}" for v in page.evaluate("window.__csp || []")
                               if FAVICON not in v]
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            workers.append(cookies["civicstat_worker"])
        for context in visitors:
            context.close()
    assert violations == []
    ports = worker_ports(stack["run_dir"])
    log = access_log(stack["run_dir"])
    websockets = [entry for entry in log if entry["path"].startswith("/_stcore/stream")]
    assert websockets and all(entry["status"] == "101" for entry in websockets)
    pinned = [entry for entry in log if entry["worker"] in ports]
    assert len(pinned) > 20 and {entry["worker"] for entry in pinned} == set(workers)
    for entry in pinned:  # a visitor's every request went to their own process
        assert entry["upstream"] == ports[entry["worker"]], entry


@pytest.mark.browser
def test_staff_pages_render_under_the_policy(stack):
    """Signed in as an admin through the proxy, every staff page from the Staff menu renders
    with no content security policy violation."""
    from civicstat.web.pages import PAGE_SPECS

    paths = sorted({spec.url_path for spec in PAGE_SPECS
                    if spec.min_role != "anonymous" and spec.url_path != "account"})
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.goto(stack["url"] + "/account")
        wait_for_app(page)
        submit_sign_in(page, STAFF_NAME, STAFF_PASSWORD)
        for path in paths:
            before = page.inner_text('[data-testid="stMain"] h1')
            page.get_by_text("Staff", exact=True).first.click()
            page.locator(f'a[href$="/{path}"]').first.click()
            page.wait_for_function(
                """(before) => { const h1 = document.querySelector('[data-testid="stMain"] h1');
                                 return h1 && h1.innerText !== before; }""",
                arg=before, timeout=60_000)
            wait_for_app(page)
        violations = [v for v in page.evaluate("window.__csp || []") if FAVICON not in v]
        context.close()
    assert len(paths) >= 5 and violations == []


@pytest.mark.browser
def test_a_visitor_whose_process_dies_goes_on_on_another(stack):
    """Kill the process a visitor is on: nginx sends their refused requests to the other process
    and names it in the cookie; the page's websocket reconnects there, and the page renders again
    there by itself, with no violation of the content security policy. The supervisor starts the
    killed process again on its port.

    (Streamlit 1.67's page does not rerun by itself after reconnecting to a process that does
    not hold its session; civicstat.web.reconnect has that process send it a reload.)"""
    ports = worker_ports(stack["run_dir"])
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        sockets = []
        page.on("websocket", lambda socket: sockets.append(socket))
        log_lines = len(access_log(stack["run_dir"]))
        page.goto(stack["url"] + "/about")
        page.get_by_role("heading", level=1, name="How we measure").wait_for(timeout=60_000)
        wait_for_app(page)
        page.evaluate("window.__before_the_kill = true")  # gone when the page loads again
        before = {c["name"]: c["value"] for c in context.cookies()}["civicstat_worker"]
        port = ports[before].rsplit(":", 1)[1]
        victim = [pid for pid, line in _descendants(stack["process"].pid).items()
                  if "streamlit" in line and f"--server.port\0{port}\0" in line]
        assert len(victim) == 1 and len(sockets) == 1
        os.kill(victim[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(sockets) < 2 or sockets[-1].is_closed():
            assert time.monotonic() < deadline, "the page's websocket did not reconnect"
            page.wait_for_timeout(200)
        after = {c["name"]: c["value"] for c in context.cookies()}["civicstat_worker"]
        assert after != before and after in ports
        # No reload by the visitor: the page renders again by itself, from the new process
        page.wait_for_function("() => !window.__before_the_kill", timeout=60_000)
        page.get_by_role("heading", level=1, name="How we measure").wait_for(timeout=60_000)
        wait_for_app(page)
        violations = [v for v in page.evaluate("window.__csp || []") if FAVICON not in v]
        context.close()
    assert violations == []
    reloaded = [entry for entry in access_log(stack["run_dir"])[log_lines:]
                if entry["path"] == "/about"]
    assert [entry["upstream"] for entry in reloaded] == [ports[before], ports[after]]
    deadline = time.monotonic() + 120
    while _status(f"http://{ports[before]}/_stcore/health") != 200:
        assert time.monotonic() < deadline, "the killed process was not started again"
        time.sleep(0.5)


def test_a_reconnect_resumes_a_held_session_and_reloads_a_lost_one(stack):
    """Through the proxy, with the websocket client: a page whose websocket reconnects to the
    process holding its session (a network blip) resumes it, told nothing; a page asking for a
    session its process does not hold (the process died and the proxy sent it to another, or
    the session was dropped) is told first thing to load its own address again."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from bench.load import StreamlitSession

    worker = sorted(worker_ports(stack["run_dir"]))[0]
    ws_url = stack["url"].replace("http://", "ws://") + "/_stcore/stream"

    async def kinds_of_one_run(session: StreamlitSession) -> list[str]:
        await session.ws.send(session._back_msg(None))
        kinds = []
        while "script_finished" not in kinds or kinds[-1] != "script_finished":
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(session.ws.recv(), 60))
            kinds.append(message.WhichOneof("type"))
        return kinds

    async def visit() -> tuple[bool, list[str], str, str]:
        session = StreamlitSession(ws_url, cookie=f"civicstat_worker={worker}")
        await session.connect()
        opened = await session.open()
        await session.close()
        await session.connect(resume=session.session_id)  # the same process: still holds it
        resumed = await kinds_of_one_run(session)
        await session.close()
        await session.connect(resume="a-session-no-process-holds")
        first = ForwardMsg()
        first.ParseFromString(await asyncio.wait_for(session.ws.recv(), 60))
        await session.close()
        return opened.ok, resumed, first.WhichOneof("type"), first.auth_redirect.url

    opened, resumed, first_kind, url = asyncio.run(visit())
    assert opened
    assert "auth_redirect" not in resumed and "delta" in resumed
    assert (first_kind, url) == ("auth_redirect", "")  # "": the page's own address


def _status(url: str) -> int | None:
    with contextlib.suppress(OSError):
        return fetch(url)[0]
    return None


def _descendants(pid: int) -> dict[int, str]:
    """Every process under `pid`: pid -> command line (bench/proxy.py's, which the bench uses
    the same way)."""
    from bench.proxy import descendants

    return descendants(pid)


def _alive(pid: int, cmdline: str) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        same = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") == cmdline
    except OSError:
        return False
    return same and state != "Z"


def test_sigint_stops_every_process(small_city, tmp_path):
    """Ctrl-C: nginx (master and workers) and both app processes are gone when serve returns."""
    with running_stack(small_city, tmp_path / "run") as (process, url):
        assert fetch(url + "/_stcore/health")[0] == 200
        children = _descendants(process.pid)
        assert sum("streamlit" in line for line in children.values()) == 2
        assert sum("nginx" in line for line in children.values()) >= 2  # master and a worker
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    assert [pid for pid, line in children.items() if _alive(pid, line)] == []


def test_the_policy_allows_our_one_inline_script_by_its_hash():
    """The menu-closing script (web/ui.py) runs under the policy: its hash is in script-src, so
    a change to the script without the header fails here, not silently in visitors' browsers."""
    import base64
    import hashlib

    from civicstat.web.ui import CLOSE_SIDEBAR_SCRIPT

    digest = base64.b64encode(hashlib.sha256(CLOSE_SIDEBAR_SCRIPT.encode()).digest()).decode()
    headers = (PROJECT / "deploy" / "nginx" / "snippets" / "civicstat-headers.conf").read_text()
    policy = re.search(r'Content-Security-Policy "([^"]+)"', headers).group(1)
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert f"'sha256-{digest}'" in script_src.split()
