"""Who is using this session and with which role: sign-in, sign-out and the idle timeout.

Two ways in: single sign-on with st.login when the secrets file has an `[auth]` section (the
role comes from `[civicstat.roles]`, by e-mail), and built-in accounts from `[civicstat.users]`
(see civicstat.accounts.users). app.py calls resolve() once per run, before it registers any page;
pages read identity(). A built-in sign-in lasts as long as the browser tab's session; a
single sign-on lasts as long as Streamlit's identity cookie. Both end after the configured
idle time: the next run signs the session out, and an open page checks every so often, so an
unattended screen stops showing internal pages.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import streamlit as st

from civicstat.accounts.passwords import spend_equal_time, verify_password
from civicstat.accounts.users import AccessConfig, access_from_secrets

SESSION_KEY = "_civicstat_sign_in"  # {"account": name, "token": random} for a built-in sign-in
IDENTITY_KEY = "_civicstat_identity"
MAX_FAILURES, FAILURE_WINDOW_SECONDS = 5, 15 * 60


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


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


@st.cache_resource(show_spinner=False)
def _last_activity() -> dict[tuple, float]:
    """Server-wide: sign-in key -> time of its last run (survives a reload of the page)."""
    return {}


@st.cache_resource(show_spinner=False)
def _failures() -> dict[str, list[float]]:
    """Server-wide: account name -> times of recent failed password attempts."""
    return {}


def _identify(access: AccessConfig) -> Identity:
    signed = st.session_state.get(SESSION_KEY)
    if signed:
        role = access.role_for_account(signed["account"])
        if role == "anonymous":  # the account was removed since
            del st.session_state[SESSION_KEY]
            return Identity()
        return Identity(role, signed["account"], "password", ("password", signed["token"]))
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
    identity = _identify(access)
    if identity.signed_in:
        if _is_idle(identity, access):
            minutes = f"{access.idle_timeout_minutes:g}"
            _end(identity)
            st.toast(f"You were signed out after {minutes} minutes without activity.",
                     icon=":material/lock_clock:")
            identity = Identity()
        else:
            _touch(identity.activity_key)
    st.session_state[IDENTITY_KEY] = identity
    return identity


def identity() -> Identity:
    """The identity resolve() found for this run."""
    return st.session_state.get(IDENTITY_KEY) or Identity()


def _end(identity: Identity) -> None:
    _last_activity().pop(identity.activity_key, None)
    st.session_state.pop(SESSION_KEY, None)
    if identity.method == "sso":
        st.logout()  # deletes the identity cookie; the browser is sent to the home page


def sign_out() -> None:
    """End the current sign-in (either kind) and start over as anonymous."""
    _end(identity())
    st.session_state[IDENTITY_KEY] = Identity()


def _throttled(name: str) -> bool:
    """Whether `name` has had MAX_FAILURES failed attempts within the window."""
    failures, now = _failures(), time.time()
    if len(failures) > 10_000:  # names typed at random must not fill the memory
        for stale in [n for n, times in failures.items() if now - max(times, default=0)
                      > FAILURE_WINDOW_SECONDS]:
            failures.pop(stale, None)
    recent = [t for t in failures.get(name, []) if now - t < FAILURE_WINDOW_SECONDS]
    failures[name] = recent
    return len(recent) >= MAX_FAILURES


def sign_in_with_password(name: str, password: str) -> str | None:
    """Check a built-in account's password; sign the session in, or say why not."""
    name = name.strip()
    if _throttled(name):
        return "Too many failed attempts for this account. Try again in 15 minutes."
    account = load_access().accounts.get(name)
    if account is None:
        spend_equal_time(password)
    if account is None or not verify_password(password, account.password_hash):
        _failures().setdefault(name, []).append(time.time())
        return "Unknown account or wrong password."
    _failures().pop(name, None)
    st.session_state[SESSION_KEY] = {"account": name, "token": secrets.token_urlsafe(24)}
    return None


def _check_idle(key: tuple) -> None:
    identity_now = Identity(activity_key=key, method="check")
    if _is_idle(identity_now, load_access()):
        st.rerun(scope="app")  # the app run signs the session out and drops the staff pages


def watch_idle(identity: Identity) -> None:
    """While signed in, check every so often whether the idle time is up (not an activity)."""
    limit = _idle_seconds(load_access())
    if identity.signed_in and limit:
        every = max(1.0, min(60.0, limit / 4))
        st.fragment(_check_idle, run_every=every)(identity.activity_key)
