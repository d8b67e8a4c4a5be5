"""Built-in sign-ins kept on the server, so that a reload or a new tab stays signed in.

A sign-in is a random token (256 bits). The browser holds it in an HttpOnly cookie; this store
holds only its SHA-256, with the account, when it started and when it was last used, in a small
SQLite file beside the city's data (`<city>/sessions.sqlite3`, owner-only). SQLite because every
app process behind a proxy must see the same sign-ins and the same sign-outs: a sign-out deletes
the row, so the token is worthless in every process at once, and the idle clock is one clock.

The cookie cannot be set from the Streamlit session that signs in (it speaks over a websocket),
so the session gets a one-time code (`handoff`), which the browser trades at the app's
/_civicstat/session endpoint (civicstat.web.session_routes); that answer sets the cookie. A code is
good once, for HANDOFF_SECONDS; until then its row holds the token itself (the code only as a
hash), and the row goes when the code is used or at the next sign-in after it expired.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "sessions.sqlite3"
MAX_AGE_SECONDS = 12 * 60 * 60  # a sign-in ends after 12 hours, however active (a working day)
HANDOFF_SECONDS = 60.0  # a one-time code is good for a minute
_SCHEMA = """
create table if not exists sign_ins (
    token_hash text primary key,
    account text not null,
    started_at real not null,
    last_seen real not null
);
create table if not exists handoffs (
    code_hash text primary key,
    token text not null,
    issued_at real not null
);
"""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Found:
    """What a token is: its account, or None with why not ("unknown", "idle" or "expired")."""

    account: str | None
    why: str = ""


class SessionStore:
    """The sign-ins of one city (one SQLite file, shared by every app process)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        new = not self.path.exists()
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)  # owner-only from the start
            os.close(fd)
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("pragma busy_timeout = 10000")
            if new:
                con.execute("pragma journal_mode = wal")
            con.executescript(_SCHEMA)
            con.execute("begin immediate")
            yield con
            con.execute("commit")
        except BaseException:
            if con.in_transaction:
                con.execute("rollback")
            raise
        finally:
            con.close()

    def start(self, account: str, now: float | None = None) -> str:
        """A new sign-in for `account`; returns its token (the only copy: only its hash is kept)."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        with self._connect() as con:
            con.execute("delete from sign_ins where started_at < ?", (now - MAX_AGE_SECONDS,))
            con.execute("insert into sign_ins values (?, ?, ?, ?)", (_digest(token), account, now, now))
        return token

    def find(self, token: str | None, idle_seconds: float, now: float | None = None,
             *, touch: bool = True, end_stale: bool = True) -> Found:
        """The account signed in with `token`, if the sign-in is still good: not ended, not idle
        for more than `idle_seconds` (0: no idle limit), not older than MAX_AGE_SECONDS. An idle
        or expired sign-in is ended here unless `end_stale` is false (a check that leaves the
        ending, and saying why, to the next page run). `touch`: this use counts as activity."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return Found(None, "unknown")
        now = time.time() if now is None else now
        key = _digest(token)
        with self._connect() as con:
            row = con.execute("select account, started_at, last_seen from sign_ins "
                              "where token_hash = ?", (key,)).fetchone()
            if row is None:
                return Found(None, "unknown")
            account, started_at, last_seen = row
            why = ("expired" if now - started_at > MAX_AGE_SECONDS
                   else "idle" if idle_seconds and now - last_seen > idle_seconds else "")
            if why:
                if end_stale:
                    con.execute("delete from sign_ins where token_hash = ?", (key,))
                return Found(None, why)
            if touch:
                con.execute("update sign_ins set last_seen = ? where token_hash = ?", (now, key))
        return Found(account)

    def end(self, token: str | None) -> None:
        """Sign-out: the token is worthless from now on, in every process."""
        if token:
            with self._connect() as con:
                con.execute("delete from sign_ins where token_hash = ?", (_digest(token),))

    def end_account(self, account: str) -> None:
        """End every sign-in of `account` (e.g. when it is removed)."""
        with self._connect() as con:
            con.execute("delete from sign_ins where account = ?", (account,))

    def handoff(self, token: str, now: float | None = None) -> str:
        """A one-time code that the browser trades for `token` in a cookie (see redeem)."""
        now = time.time() if now is None else now
        code = secrets.token_urlsafe(32)
        with self._connect() as con:
            con.execute("delete from handoffs where issued_at < ?", (now - HANDOFF_SECONDS,))
            con.execute("insert into handoffs values (?, ?, ?)", (_digest(code), token, now))
        return code

    def redeem(self, code: str | None, now: float | None = None) -> str | None:
        """The token a one-time code stands for, once, within HANDOFF_SECONDS; else None."""
        if not isinstance(code, str) or not code or len(code) > 200:
            return None
        now = time.time() if now is None else now
        with self._connect() as con:
            row = con.execute("delete from handoffs where code_hash = ? returning token, issued_at",
                              (_digest(code),)).fetchone()
        if row is None or now - row[1] > HANDOFF_SECONDS:
            return None
        return row[0]


def store_for(city_dir: Path) -> SessionStore:
    """The sign-in store of a city folder ($CIVICSTAT_SESSIONS names another file)."""
    override = os.environ.get("CIVICSTAT_SESSIONS")
    return SessionStore(Path(override) if override else Path(city_dir) / FILE_NAME)
