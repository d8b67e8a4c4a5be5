"""Built-in sign-ins on the server (civicstat/accounts/sessions.py) and the endpoint that sets
their cookie (civicstat/web/session_routes.py): tokens kept only as hashes, idle and age limits,
sign-out everywhere, one-time codes, and a cookie only for the app's own pages."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from civicstat.accounts.sessions import HANDOFF_SECONDS, MAX_AGE_SECONDS, SessionStore, store_for
from civicstat.web import session_routes


@pytest.fixture()
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions.sqlite3")


def test_a_sign_in_lasts_until_idle_or_too_old_or_ended(store):
    token = store.start("sam", now=1000.0)
    assert store.find(token, 600, now=1500.0).account == "sam"  # touched at 1500
    assert store.find(token, 600, now=2050.0).account == "sam"  # 550 s after the last use
    assert store.find(token, 600, now=2700.0).why == "idle"
    assert store.find(token, 600, now=2700.0).why == "unknown"  # ended by the idle check

    old = store.start("sam", now=0.0)
    assert store.find(old, 0, now=MAX_AGE_SECONDS - 1).account == "sam"  # 0: no idle limit
    assert store.find(old, 0, now=MAX_AGE_SECONDS + 1).why == "expired"

    token = store.start("ada", now=10.0)
    store.end(token)
    assert store.find(token, 600, now=11.0).account is None


def test_a_check_without_touch_leaves_the_clock_and_the_record(store):
    token = store.start("sam", now=0.0)
    assert store.find(token, 600, now=500.0, touch=False).account == "sam"
    assert store.find(token, 600, now=700.0, touch=False, end_stale=False).why == "idle"
    assert store.find(token, 600, now=700.0).why == "idle"  # still there for resolve() to end


def test_only_hashes_are_kept_and_the_file_is_owner_only(store):
    token = store.start("sam")
    code = store.handoff(token)
    with sqlite3.connect(store.path) as con:
        keys = [row[0] for row in con.execute("select token_hash from sign_ins")]
    assert keys and token not in keys and code not in store.path.read_bytes().decode("latin-1")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_every_process_sees_a_sign_out(tmp_path):
    first, second = SessionStore(tmp_path / "s.sqlite3"), SessionStore(tmp_path / "s.sqlite3")
    token = first.start("sam")
    assert second.find(token, 600).account == "sam"
    second.end(token)
    assert first.find(token, 600).account is None


@pytest.mark.parametrize("token", [None, "", "x" * 201, "not-a-token", 42])
def test_nonsense_tokens_find_nothing(store, token):
    assert store.find(token, 600).account is None


def test_a_code_is_good_once_and_briefly(store):
    token = store.start("sam", now=0.0)
    code = store.handoff(token, now=0.0)
    assert store.redeem(code, now=1.0) == token
    assert store.redeem(code, now=2.0) is None  # used
    late = store.handoff(token, now=0.0)
    assert store.redeem(late, now=HANDOFF_SECONDS + 1) is None
    assert store.redeem(None) is None and store.redeem("made-up") is None


@pytest.fixture()
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_SESSIONS", str(tmp_path / "sessions.sqlite3"))
    app = Starlette(routes=session_routes.ROUTES)
    return TestClient(app, base_url="http://civicstat.test", client=("10.0.0.2", 5000)), \
        store_for(tmp_path)


def post(client, code, site="same-origin", **headers):
    """The page's request for the endpoint (the name is older than the method: a GET)."""
    return client.get(session_routes.PATH, params={"code": code},
                      headers={**({"sec-fetch-site": site} if site else {}), **headers})


def test_the_endpoint_sets_an_httponly_strict_cookie_for_a_good_code(client):
    http, store = client
    token = store.start("sam")
    answer = post(http, store.handoff(token))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    cookie = answer.headers["set-cookie"]
    assert f"{session_routes.COOKIE_NAME}={token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here
    behind_tls = post(http, store.handoff(token), **{"x-forwarded-proto": "https"})
    assert "Secure" in behind_tls.headers["set-cookie"]  # a proxy on a private network says so


@pytest.mark.parametrize(("site", "headers"), [
    ("cross-site", {}), ("same-site", {}), ("none", {}),
    (None, {}), (None, {"referer": "http://evil.example/page"}),
])
def test_the_endpoint_refuses_other_sites(client, site, headers):
    http, store = client
    code = store.handoff(store.start("sam"))
    answer = post(http, code, site=site, **headers)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    assert store.redeem(code) is not None  # the code was not spent


def test_without_fetch_metadata_the_referer_must_be_the_app(client):
    http, store = client
    code = store.handoff(store.start("sam"))
    answer = post(http, code, site=None, referer="http://civicstat.test/account")
    assert answer.status_code == 200 and "set-cookie" in answer.headers


def test_the_endpoint_refuses_a_used_or_made_up_code(client):
    http, store = client
    code = store.handoff(store.start("sam"))
    assert post(http, code).status_code == 200
    assert post(http, code).status_code == 403
    assert post(http, "made-up").status_code == 403
    assert post(http, None).status_code == 403
    assert http.post(session_routes.PATH).status_code == 405
