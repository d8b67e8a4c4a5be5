"""`civicstat serve`: nginx in front of N `streamlit run app.py` processes, on one port.

For trying the deployment on one machine (`make serve WORKERS=N PORT=P`). The supervisor starts
the app processes on free internal ports (127.0.0.1 only), waits until each answers its health
check, then starts nginx with a configuration rendered into a run folder (config, pid, logs and
temporary files there; no root needed) from the same snippets a server uses (deploy/nginx/).
A process that dies is started again on its port; its visitors move to another one meanwhile.
Ctrl-C (SIGINT), SIGTERM or SIGHUP stops them all: each child runs in its own process group, which
is stopped whole, and each is told to stop should the supervisor itself be killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent  # the checkout holding app.py and deploy/
SNIPPETS = PROJECT / "deploy" / "nginx" / "snippets"
NGINX_PACKAGES = "nginx-light libnginx-mod-http-brotli-filter"
INTERNAL_HOST = "127.0.0.1"
STARTUP_TIMEOUT = 120.0  # seconds an app process may take to answer its health check
STOP_TIMEOUT = 10.0  # seconds a child may take to stop before it is killed
RESTART_DELAY = 1.0  # seconds before a dead app process is started again


class ServeError(RuntimeError):
    """The stack cannot start: says what is missing."""


def find_nginx() -> str | None:
    """The nginx binary (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def brotli_module(nginx: str) -> Path | None:
    """The brotli filter module's file when installed (Debian: libnginx-mod-http-brotli-filter)."""
    result = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=False)
    match = re.search(r"--modules-path=(\S+)", result.stderr + result.stdout)
    folder = Path(match.group(1) if match else "/usr/lib/nginx/modules")
    module = folder / "ngx_http_brotli_filter_module.so"
    return module if module.exists() else None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((INTERNAL_HOST, 0))
        return sock.getsockname()[1]


def site_maps(addresses: list[str]) -> str:
    """The nginx upstreams and maps for app processes at `addresses` ("host:port"): one pool
    (civicstat_any, round robin, for first visits and failover) and one upstream per process (w1, w2, ...),
    the cookie -> upstream map and the upstream address -> name map that civicstat-http.conf
    and civicstat-locations.conf read. The shipped site files hold the same for two processes."""
    names = [f"w{number}" for number in range(1, len(addresses) + 1)]
    lines = ["upstream civicstat_any {"]  # round robin for first visits
    lines += [f"    server {address} max_fails=0;" for address in addresses]
    lines += ["}"]
    for name, address in zip(names, addresses, strict=True):
        lines += [f"upstream civicstat_{name} {{", f"    server {address} max_fails=0;", "}"]
    lines += ["map $cookie_civicstat_worker $civicstat_upstream {", "    default civicstat_any;"]
    lines += [f"    {name} civicstat_{name};" for name in names]
    lines += ["}", "map $upstream_addr $civicstat_served_by {", '    default "";']
    lines += [f'    "~(^| ){re.escape(address)}$" {name};'
              for name, address in zip(names, addresses, strict=True)]
    lines += ["}"]
    return "\n".join(lines) + "\n"


def render_config(run_dir: Path, *, listen: str, worker_ports: list[int],
                  brotli: Path | None, tls: tuple[Path, Path] | None = None) -> str:
    """nginx.conf for a local run: everything under `run_dir`, the shared snippets included.
    `tls`: (certificate, key) to listen with TLS and HTTP/2 instead of plain HTTP."""
    user = ""
    if os.geteuid() == 0:  # nginx's workers would otherwise run as the compiled-in default user
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};\n"
    load = f"load_module {brotli};\n" if brotli else ""
    maps = site_maps([f"{INTERNAL_HOST}:{port}" for port in worker_ports])
    return f"""# Rendered by `civicstat serve` for this run only; deploy/nginx/ holds the server's files.
{load}{user}worker_processes 1;
pid {run_dir}/nginx.pid;
error_log {run_dir}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    client_body_temp_path {run_dir}/tmp/body;
    proxy_temp_path {run_dir}/tmp/proxy;
    fastcgi_temp_path {run_dir}/tmp/fastcgi;
    uwsgi_temp_path {run_dir}/tmp/uwsgi;
    scgi_temp_path {run_dir}/tmp/scgi;
    log_format civicstat '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                         'upstream=$upstream_addr worker=$cookie_civicstat_worker';
    access_log {run_dir}/access.log civicstat;
    server_tokens off;

    include snippets/civicstat-http.conf;
{_indent(maps)}
    server {{
        listen {listen}{" ssl http2" if tls else ""};
        server_name _;
{f"        ssl_certificate {tls[0]};{chr(10)}        ssl_certificate_key {tls[1]};{chr(10)}" if tls else ""}\
{"        include snippets/civicstat-brotli.conf;" + chr(10) if brotli else ""}\
        include snippets/civicstat-locations.conf;
    }}
}}
"""


def _indent(text: str, spaces: int = 4) -> str:
    return "".join(" " * spaces + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def _die_with_parent() -> None:
    """In the child before exec: its own process group, and SIGTERM when the supervisor dies."""
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    """One supervised process (an app process, or nginx)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path
    process: subprocess.Popen | None = None
    restarts: int = 0

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def wait(self, timeout: float) -> None:
        """Until it has exited (killed, with its whole group, after `timeout`)."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
            self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything the child left in its group

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Stack:
    """nginx and the app processes of one `civicstat serve` run."""

    city: Path
    workers: int = 2
    port: int = 8080
    address: str = "0.0.0.0"
    run_dir: Path | None = None
    tls: tuple[Path, Path] | None = None  # (certificate, key): https and HTTP/2
    app_dir: Path = PROJECT
    apps: list[Child] = field(default_factory=list)
    nginx: Child | None = None
    _stopping: bool = False

    def start(self) -> None:
        nginx = find_nginx()
        if nginx is None:
            raise ServeError(f"nginx is not installed: apt-get install {NGINX_PACKAGES} "
                             "(as root; `make serve` does it when run as root on Debian)")
        if not (self.city / "build" / "public.duckdb").exists():
            raise ServeError(f"{self.city} has no published snapshot (build/public.duckdb): "
                             "run `civicstat publish` first")
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix="civicstat-serve-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.run_dir.chmod(0o711)  # nginx's workers (nobody) reach their temporary folders
        (self.run_dir / "tmp").mkdir(exist_ok=True)
        shutil.copytree(SNIPPETS, self.run_dir / "snippets", dirs_exist_ok=True)
        env = {**os.environ, "CIVICSTAT_CITY": str(self.city.resolve()), "PYTHONUNBUFFERED": "1"}
        # One cookie secret for every process: a signed-in (single sign-on) visitor moved to
        # another process after theirs died stays signed in.
        env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_urlsafe(32))
        ports = [free_port() for _ in range(self.workers)]
        for number, port in enumerate(ports, start=1):
            self.apps.append(Child(
                name=f"app w{number} (port {port})",
                command=[sys.executable, "-m", "streamlit", "run", str(self.app_dir / "app.py"),
                         "--server.port", str(port), "--server.address", INTERNAL_HOST,
                         "--server.headless", "true"],
                env=env, log=self.run_dir / f"app-w{number}.log", cwd=self.app_dir,
            ))
        for app in self.apps:
            app.start()
        for app, port in zip(self.apps, ports, strict=True):
            self._wait_healthy(app, port)
        config = self.run_dir / "nginx.conf"
        config.write_text(render_config(self.run_dir, listen=f"{self.address}:{self.port}",
                                        worker_ports=ports, brotli=brotli_module(nginx),
                                        tls=self.tls))
        self.nginx = Child(
            name="nginx",
            command=[nginx, "-p", str(self.run_dir), "-c", str(config),
                     "-e", str(self.run_dir / "error.log"), "-g", "daemon off;"],
            env=dict(os.environ), log=self.run_dir / "nginx.out", cwd=self.run_dir,
        )
        self.nginx.start()
        self._wait_listening()

    def _wait_healthy(self, app: Child, port: int) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if app.exited():
                raise ServeError(f"{app.name} exited while starting:\n{app.log_tail()}")
            with contextlib.suppress(OSError):
                url = f"http://{INTERNAL_HOST}:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.3)
        raise ServeError(f"{app.name} did not answer its health check in {STARTUP_TIMEOUT:.0f} s")

    def _wait_listening(self) -> None:
        pid_file = self.run_dir / "nginx.pid"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.nginx.exited():
                error_log = self.run_dir / "error.log"
                detail = error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""
                raise ServeError(f"nginx exited while starting:\n{detail}{self.nginx.log_tail()}")
            if pid_file.exists():
                return
            time.sleep(0.1)
        raise ServeError("nginx did not start in 30 s")

    def watch(self) -> int:
        """Until stopped: restart an app process that dies; stop everything if nginx dies."""
        while not self._stopping:
            if self.nginx is not None and self.nginx.exited():
                print(f"civicstat serve: nginx exited:\n{self.nginx.log_tail()}", file=sys.stderr)
                return 1
            for app in self.apps:
                if app.exited() and not self._stopping:
                    print(f"civicstat serve: {app.name} exited (code {app.process.returncode}); "
                          "starting it again", file=sys.stderr)
                    time.sleep(RESTART_DELAY)
                    if not self._stopping:
                        app.restarts += 1
                        app.start()
            time.sleep(0.5)
        return 0

    def request_stop(self, *_args) -> None:
        self._stopping = True

    def stop(self) -> None:
        """nginx first (no new requests), then the app processes; every group waited for."""
        self._stopping = True
        children = ([self.nginx] if self.nginx else []) + self.apps
        for child in children:
            child.stop()
        for child in children:
            child.wait(STOP_TIMEOUT)

    def pids(self) -> list[int]:
        return [child.pid for child in ([self.nginx] if self.nginx else []) + self.apps if child.pid]


def run(args: argparse.Namespace) -> int:
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("civicstat serve: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        tls = (Path(args.tls_cert).resolve(), Path(args.tls_key).resolve())
    stack = Stack(city=Path(args.city), workers=args.workers, port=args.port, address=args.address,
                  run_dir=Path(args.run_dir) if args.run_dir else None, tls=tls)
    keep_run_dir = args.run_dir is not None
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stack.request_stop)
    code = 0
    try:
        stack.start()
        if not stack._stopping:
            shown = "localhost" if args.address in ("0.0.0.0", "") else args.address
            scheme = "https" if tls else "http"
            print(f"CivicStat ({stack.city}) on {scheme}://{shown}:{args.port} : nginx in front of "
                  f"{args.workers} app process(es); logs in {stack.run_dir}. Ctrl-C stops them all.",
                  flush=True)
            code = stack.watch()
    except ServeError as error:
        print(f"civicstat serve: {error}", file=sys.stderr)
        code = 2
        keep_run_dir = True
    finally:
        stack.stop()
        if stack.run_dir is not None and not keep_run_dir:
            shutil.rmtree(stack.run_dir, ignore_errors=True)
        elif stack.run_dir is not None:
            print(f"civicstat serve: logs kept in {stack.run_dir}", file=sys.stderr)
    return code


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="nginx in front of several app processes on one port (a local deployment)")
    serve.add_argument("city", nargs="?", default=os.environ.get("CIVICSTAT_CITY", "data/demo"),
                       help="city folder with published snapshots (default: $CIVICSTAT_CITY or "
                            "data/demo)")
    serve.add_argument("--workers", type=int, default=2, help="app processes (default 2)")
    serve.add_argument("--port", type=int, default=8080, help="the port nginx listens on (8080)")
    serve.add_argument("--address", default="0.0.0.0",
                       help="the address nginx listens on (default all: 0.0.0.0)")
    serve.add_argument("--run-dir", help="folder for nginx's configuration, pid and logs, kept "
                                         "afterwards (default: a temporary folder, removed)")
    serve.add_argument("--tls-cert", help="certificate file (PEM): serve https and HTTP/2, as a "
                                          "server terminating TLS does (with --tls-key)")
    serve.add_argument("--tls-key", help="the certificate's private key file (PEM)")
    serve.set_defaults(handler=run)
