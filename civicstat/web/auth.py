"""Who is using this session and with which role: sign-in, sign-out and the idle timeout.

Two ways in: single sign-on with st.login when the secrets file has an `[auth]` section (the
role comes from `[civicstat.roles]`, by e-mail), and built-in accounts from `[civicstat.users]`
(see civicstat.accounts.users). app.py calls resolve() once per run, before it registers any page;
pages read identity(). A built-in sign-in is a server-side record (civicstat.accounts.sessions)
whose token the browser keeps in an HttpOnly cookie, so a reload or a new tab stays signed in; a
single sign-on lasts as long as Streamlit's identity cookie. Both end after the configured
idle time: the next run signs the session out, and an open page checks every so often, so an
unattended screen stops showing internal pages. Signing out (or the idle end) deletes the
record, so the cookie is worthless everywhere, and removes the session's staff downloads from
Streamlit's media store (civicstat.web.media).
"""

from __future__ import annotations

import ipaddress
import sqlite3
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import streamlit as st

from civicstat.accounts.passwords import spend_equal_time, verify_password
from civicstat.accounts.sessions import SessionStore, store_for
from civicstat.accounts.users import AccessConfig, access_from_secrets
from civicstat.core.city import city_dir_from_env
from civicstat.web import media
from civicstat.web.session_routes import COOKIE_NAME
from civicstat.web.session_routes import PATH as SESSION_PATH

SESSION_KEY = "_civicstat_sign_in"  # {"account": name, "token": its token} for a built-in sign-in
IDENTITY_KEY = "_civicstat_identity"
HANDOFF_KEY = "_civicstat_handoff"  # a one-time code for the browser's cookie, until it is sent
COOKIE_SEEN_KEY = "_civicstat_cookie_seen"  # a cookie token already found worthless
ENDED_MESSAGES = {
    "idle": "You were signed out after {minutes} minutes without activity.",
    "expired": "Your sign-in ended: sign-ins last at most 12 hours.",
}
# Throttling of built-in password sign-in (see sign_in_with_password for the rule).
FAILURE_WINDOW_SECONDS = 60 * 60  # failures older than this are forgotten
PAIR_FREE_FAILURES = 5  # failures one client may make against one name before it waits
CLIENT_FREE_FAILURES = 20  # failures one client may make over all names before it waits
FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS = 1.0, 15 * 60  # the wait doubles per further failure
NAME_SLOW_AFTER, NAME_PAUSE_STEP, NAME_MAX_PAUSE = 5, 0.25, 2.0  # a name under attack: a pause
MAX_ENTRIES, MAX_TIMES = 10_000, 64  # bounded memory: counters kept, failure times per counter
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Identity:
    role: str = "anonymous"
    name: str | None = None  # account name or e-mail
    method: str | None = None  # "password" or "sso"; None when nobody is signed in
    activity_key: tuple = ()  # what the idle clock is kept under

    @property
    def signed_in(self) -> bool:
        return self.method is not None


def load_access() -> AccessConfig:
    """The [civicstat] section of the secrets (empty when there is no secrets file)."""
    try:
        return access_from_secrets(st.secrets)
    except FileNotFoundError:  # Streamlit's "no secrets found"
        return access_from_secrets(None)


SSO_KEYS = ("redirect_uri", "cookie_secret")  # in [auth] itself
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")  # in [auth] or [auth.NAME]


def sso_missing(auth_section: object) -> list[str]:
    """What a secrets file's [auth] section lacks for st.login (empty when complete): the keys
    Streamlit needs, the provider's either in [auth] or in one [auth.<provider>] table."""
    section = dict(auth_section or {})
    missing = [key for key in SSO_KEYS if not section.get(key)]
    providers = [section] + [v for v in section.values() if isinstance(v, dict)]
    if not any(all(p.get(key) for key in PROVIDER_KEYS) for p in map(dict, providers)):
        best = max(providers, key=lambda p: sum(bool(dict(p).get(k)) for k in PROVIDER_KEYS))
        missing += [key for key in PROVIDER_KEYS if not dict(best).get(key)]
    return missing


def sso_section() -> dict | None:
    """The secrets file's [auth] section, or None when there is none."""
    try:
        return dict(st.secrets["auth"]) if "auth" in st.secrets else None
    except FileNotFoundError:
        return None


def sso_configured() -> bool:
    """Single sign-on is offered only when [auth] holds everything st.login needs: a half-written
    section would show a button that fails."""
    section = sso_section()
    return section is not None and not sso_missing(section)


@st.cache_resource(show_spinner=False)
def _last_activity() -> dict[tuple, float]:
    """Server-wide: sign-in key -> time of its last run (survives a reload of the page)."""
    return {}


@st.cache_resource(show_spinner=False)
def _failures() -> dict[tuple, list[float]]:
    """Server-wide: ("client", c), ("pair", c, name) or ("name", name) -> times of recent failed
    password attempts (oldest first); only touched under _LOCK."""
    return {}


def clock() -> float:
    """The throttle's clock (seconds; tests replace it)."""
    return time.monotonic()


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def client_key() -> str:
    """Who is knocking, as far as Streamlit can tell: the address of the browser's connection
    (st.context.ip_address). When that connection comes from this host or a private network (a
    reverse proxy in front of the app), the last X-Forwarded-For entry, the address that proxy saw,
    is used instead; a connection from a public address cannot choose its key with the header.
    "local" when nothing is known (every such client shares the key)."""
    return client_from(st.context.ip_address, st.context.headers.get_all("X-Forwarded-For"))


def client_from(peer: str | None, forwarded: list[str]) -> str:
    """client_key() from the connection's address (None on loopback) and X-Forwarded-For."""
    try:
        behind_proxy = peer is None or ipaddress.ip_address(peer).is_private
    except ValueError:
        behind_proxy = False
    hops = [part.strip() for value in forwarded for part in value.split(",")]
    hops = [hop for hop in hops if hop]
    if behind_proxy and hops:
        return hops[-1][:64]
    return (peer or "local")[:64]


def sessions() -> SessionStore:
    """The built-in sign-ins of the city this app serves (shared by every app process)."""
    return store_for(city_dir_from_env())


def _cookie() -> str | None:
    """The sign-in cookie the browser sent when this session opened (or None)."""
    token = st.context.cookies.get(COOKIE_NAME)
    return token if isinstance(token, str) and token else None


def _password_identity(access: AccessConfig) -> tuple[Identity | None, str]:
    """This session's built-in sign-in, from its state or else from the browser's cookie, if the
    server still holds it; else (None, why it ended): "idle", "expired", "unknown" (this
    session was signed in and the sign-in was ended elsewhere) or "" (nothing to end)."""
    signed = st.session_state.get(SESSION_KEY)
    if not signed:
        token = _cookie()
        if not token or st.session_state.get(COOKIE_SEEN_KEY) == token:
            return None, ""
        signed = {"account": None, "token": token}
    found = sessions().find(signed["token"], _idle_seconds(access), time.time())
    account = found.account
    if account is None or (signed["account"] not in (None, account)):
        st.session_state[COOKIE_SEEN_KEY] = _cookie()
        if signed["account"] is None:  # only a cookie, and it is worth nothing
            return None, found.why if found.why in ENDED_MESSAGES else ""
        return None, found.why or "unknown"  # signed in until now: resolve() ends it
    role = access.role_for_account(account)
    if role == "anonymous":  # the account was removed since
        sessions().end(signed["token"])
        st.session_state.pop(SESSION_KEY, None)
        return None, ""
    st.session_state[SESSION_KEY] = {"account": account, "token": signed["token"]}
    return Identity(role, account, "password", ("password", signed["token"])), ""


def _identify(access: AccessConfig) -> Identity:
    """Single sign-on's identity (a built-in sign-in is _password_identity's)."""
    user = st.user
    if user.get("is_logged_in"):
        email = user.get("email")
        # only a provider's word that the address is verified counts (some send "true")
        claim = user.get("email_verified")
        verified = claim is True or claim == "true"
        role = access.role_for_email(email) if verified else "anonymous"
        key = ("sso", str(user.get("iss")), str(user.get("sub")), str(user.get("iat")))
        return Identity(role, str(email or user.get("sub") or "unknown"), "sso", key)
    return Identity()


def _idle_seconds(access: AccessConfig) -> float:
    return access.idle_timeout_minutes * 60


def _is_idle(identity: Identity, access: AccessConfig) -> bool:
    limit = _idle_seconds(access)
    last = _last_activity().get(identity.activity_key)
    return bool(limit) and last is not None and time.time() - last > limit


def _touch(key: tuple) -> None:
    activity = _last_activity()
    now = time.time()
    activity[key] = now
    if len(activity) > 10_000:  # forget sign-ins unused for a day
        for old in [k for k, seen in activity.items() if now - seen > 86_400]:
            activity.pop(old, None)


def resolve() -> Identity:
    """Who this session is, for this run; signs it out first if it has been idle too long."""
    access = load_access()
    identity, ended = _password_identity(access)
    if identity is None and not ended:
        identity = _identify(access)
        if identity.signed_in and _is_idle(identity, access):
            ended = "idle"
        elif identity.signed_in:
            _touch(identity.activity_key)
    if ended:  # idle, expired, or ended elsewhere (a sign-out in another tab): "unknown"
        _end(identity or Identity(), _cookie())
        if ended in ENDED_MESSAGES:
            st.toast(ENDED_MESSAGES[ended].format(minutes=f"{access.idle_timeout_minutes:g}"),
                     icon=":material/lock_clock:")
        identity = Identity()
    st.session_state[IDENTITY_KEY] = identity
    return identity


def identity() -> Identity:
    """The identity resolve() found for this run."""
    return st.session_state.get(IDENTITY_KEY) or Identity()


def _end(identity: Identity, token: str | None = None) -> None:
    """End a sign-in: this session's, or the built-in one of `token` (a cookie's), everywhere."""
    signed = st.session_state.pop(SESSION_KEY, None)
    token = signed["token"] if signed else token
    owners = {identity.activity_key, ("password", token) if token else ()} - {()}
    for owner in owners:
        _last_activity().pop(owner, None)
        media.forget_files(owner)  # its staff downloads, in all its tabs: their /media/ URLs 404
    if token:
        sessions().end(token)  # the cookie is worthless from now on, in every process
    st.session_state.pop(HANDOFF_KEY, None)
    if identity.method == "sso":
        st.logout()  # deletes the identity cookie; the browser is sent to the home page


def sign_out() -> None:
    """End the current sign-in (either kind) and start over as anonymous."""
    _end(identity())
    st.session_state[IDENTITY_KEY] = Identity()


def _recent(failures: dict[tuple, list[float]], key: tuple, now: float) -> list[float]:
    times = [t for t in failures.get(key, ()) if now - t < FAILURE_WINDOW_SECONDS]
    if times:
        failures[key] = times[-MAX_TIMES:]
    else:
        failures.pop(key, None)
    return times


def _wait(times: list[float], free: int, now: float) -> float:
    """Seconds still to wait after `times` failures when `free` of them cost no wait."""
    if len(times) < free:
        return 0.0
    delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** min(len(times) - free, 30))
    return max(0.0, times[-1] + delay - now)


def _prune(failures: dict[tuple, list[float]], now: float) -> None:
    if len(failures) <= MAX_ENTRIES:
        return
    for key in [k for k, times in failures.items()
                if not times or now - times[-1] >= FAILURE_WINDOW_SECONDS]:
        failures.pop(key, None)
    if len(failures) > MAX_ENTRIES:  # still full of fresh entries: forget the oldest tenth
        by_age = sorted(failures, key=lambda k: failures[k][-1])
        for key in by_age[: len(failures) - MAX_ENTRIES * 9 // 10]:
            failures.pop(key, None)


def _in(seconds: float) -> str:
    if seconds < 90:
        whole = max(1, round(seconds))
        return f"{whole} second{'s' if whole > 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def sign_in_with_password(name: str, password: str) -> str | None:
    """Check a built-in account's password; sign the session in, or say why not.

    Throttling slows an attacker per client and never locks out the owner. Failures are counted
    per client (client_key(): the connection's address), per client and name, and per name, for
    FAILURE_WINDOW_SECONDS. A client past PAIR_FREE_FAILURES against one name, or past
    CLIENT_FREE_FAILURES over all names (spraying), is refused until a wait after its last failure
    that doubles with each further failure (1 s up to 15 min). A refused attempt is answered
    before any password hash is computed, so it costs the server nothing, and does not count.
    Failures against a name from other clients never refuse: they only add a short pause (at most
    NAME_MAX_PAUSE) before the check, so the owner, from a client that has not been failing,
    signs in with the right password while the name is under attack. Each attempt counts as a
    failure from before its hash is computed until it proves right, so parallel attempts from one
    client cannot pass the gate together. The counters are pruned: old failure times expire,
    at most MAX_TIMES are kept per counter and MAX_ENTRIES counters in all.
    """
    name = name.strip()
    client = client_key()
    counted = name[:65]  # account names have at most 64 characters; a longer one is no account
    keys = (("client", client), ("pair", client, counted), ("name", counted))
    failures = _failures()
    with _LOCK:
        now = clock()
        by_client = _recent(failures, keys[0], now)
        by_pair = _recent(failures, keys[1], now)
        by_name = _recent(failures, keys[2], now)
        wait = max(_wait(by_client, CLIENT_FREE_FAILURES, now),
                   _wait(by_pair, PAIR_FREE_FAILURES, now))
        if wait > 0:
            return f"Too many failed attempts from this connection. Try again in {_in(wait)}."
        for key in keys:  # a failure until it proves right
            failures.setdefault(key, []).append(now)
        _prune(failures, now)
    pause = min(NAME_MAX_PAUSE, NAME_PAUSE_STEP * (len(by_name) - NAME_SLOW_AFTER + 1))
    if pause > 0:
        _pause(pause)
    account = load_access().accounts.get(name)
    if account is None:
        spend_equal_time(password)
    if account is None or not verify_password(password, account.password_hash):
        return "Unknown account or wrong password."
    with _LOCK:
        for key in (keys[0], keys[2]):
            times = failures.get(key, [])
            if now in times:
                times.remove(now)
        failures.pop(keys[1], None)
    try:
        token = sessions().start(name, time.time())
        code = sessions().handoff(token, time.time())
    except (OSError, sqlite3.Error) as problem:  # e.g. the city folder is read-only
        return f"Sign-in is not possible: the sign-in store cannot be written ({problem})."
    st.session_state[SESSION_KEY] = {"account": name, "token": token}
    st.session_state[HANDOFF_KEY] = code
    return None


def keep_signed_in() -> None:
    """Right after a built-in sign-in: the browser trades the session's one-time code for the
    HttpOnly sign-in cookie (session_routes), so a reload or a new tab stays signed in. The page
    asks for the endpoint as a 1-pixel image: no script, allowed by the proxy's content security
    policy; the page sees only the code, never the token. Where the endpoint is missing (a server
    started some other way) the sign-in still lasts while the tab is open."""
    code = st.session_state.pop(HANDOFF_KEY, None)
    if not code:
        return
    st.html(
        f'<img src="{SESSION_PATH}?code={quote(code)}" alt="" width="1" height="1" '
        'style="position:absolute;opacity:0">',
        width=1,
    )


def _check_idle(key: tuple) -> None:
    access = load_access()
    if key[:1] == ("password",):  # also ended by a sign-out in another tab
        gone = sessions().find(key[1], _idle_seconds(access), time.time(), touch=False,
                               end_stale=False).account is None
    else:
        gone = _is_idle(Identity(activity_key=key, method="check"), access)
    if gone:
        st.rerun(scope="app")  # the app run signs the session out and drops the staff pages


def watch_idle(identity: Identity) -> None:
    """While signed in, check every so often whether the idle time is up (not an activity)."""
    limit = _idle_seconds(load_access())
    if identity.signed_in and limit:
        every = max(1.0, min(60.0, limit / 4))
        st.fragment(_check_idle, run_every=every)(identity.activity_key)
