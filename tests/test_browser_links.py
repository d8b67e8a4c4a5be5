"""Links that work, in a real browser (issue 13, items 2 and 3; issue 16, item 11): a built-in
sign-in survives a reload and a new tab; a shared staff link asks a signed-out visitor to sign in,
then opens with its parameters; a forged, ended or expired sign-in cookie gets nothing; the
filters go with the visitor from page to page through the menu; and a staff download's /media/
URL answers 404 as soon as its session signs out. One app serves the whole module."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from browser_support import chromium, serve_app, wait_for_app
from staffcity import SECRET_ADDRESS, SECRET_DESCRIPTION
from test_browser_staff import ACCOUNTS, write_secrets

pytestmark = pytest.mark.browser

COOKIE = "civicstat_session"
STAFF_MARKERS = (SECRET_ADDRESS, SECRET_DESCRIPTION, "X-HOSTILE", "Department scorecards",
                 "internal view", "Quarantined records")


@pytest.fixture(scope="module")
def served(staff_city, tmp_path_factory):
    """(base URL, sign-in store file, browser) for the module: the staff city, 30-minute idle."""
    folder = tmp_path_factory.mktemp("links")
    store = folder / "sessions.sqlite3"
    env = {"STREAMLIT_SECRETS_FILES": str(write_secrets(folder)), "CIVICSTAT_SESSIONS": str(store)}
    with serve_app(staff_city, env) as url, chromium() as browser:
        yield url, store, browser


@contextlib.contextmanager
def visitor(browser, cookie: str | None = None, url: str | None = None):
    """A browser profile of its own (its own cookies), with a sign-in cookie if given; yields
    (page, frames): every websocket frame the page received."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if cookie:
        context.add_cookies([{"name": COOKIE, "value": cookie, "url": url}])
    page = context.new_page()
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, bytes) else payload.encode())))
    try:
        yield page, frames
    finally:
        context.close()


def settle(page) -> None:
    wait_for_app(page)
    time.sleep(0.8)
    wait_for_app(page)


def open_url(page, url: str) -> None:
    page.goto(url)
    settle(page)


def fill_sign_in(page, name: str) -> None:
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password", exact=True).fill(ACCOUNTS[name][1])
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, url: str, name: str = "sam") -> None:
    open_url(page, url + "/account")
    fill_sign_in(page, name)
    page.get_by_role("heading", name="Your account").wait_for(timeout=30_000)
    settle(page)


def sign_out(page, url: str) -> None:
    open_url(page, url + "/account")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Staff sign-in").wait_for(timeout=30_000)
    settle(page)


def session_cookie(page) -> dict | None:
    """The sign-in cookie once the browser has it (it is set right after sign-in)."""
    for _ in range(50):
        found = [c for c in page.context.cookies() if c["name"] == COOKIE]
        if found:
            return found[0]
        time.sleep(0.2)
    return None


def menu(page, path: str) -> None:
    """Follow the top navigation menu's link to `path` (same session), opening its section
    ("Public", "Staff") first when the menu groups the pages."""
    link = page.locator(f'a[href$="/{path}"]').first
    if not link.is_visible():
        staff = ("scorecards", "backlog", "requests", "quality", "admin", "account")
        section = "Staff" if path in staff else "Public"
        page.get_by_text(section, exact=True).first.click()
    link.click()
    settle(page)


def sidebar_choices(page) -> dict[str, str]:
    """{label: shown value} of the sidebar's pickers."""
    return page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('[data-testid="stSidebar"] input[role="combobox"]')]
            .map(e => [e.getAttribute('aria-label'), e.value]))""")


def assert_signed_out_view(page, frames: list[bytes]) -> None:
    """The sign-in form, and nothing of a staff page on screen or on the wire."""
    page.get_by_role("heading", name="Staff sign-in").wait_for(timeout=30_000)
    text, wire = page.inner_text("body"), b"".join(frames)
    assert frames, "no websocket traffic was seen"
    for marker in STAFF_MARKERS:
        assert marker not in text, marker
        assert marker.encode() not in wire, marker


def test_a_sign_in_survives_reloads_and_new_tabs_until_sign_out(served):
    url, _, browser = served
    with visitor(browser) as (page, _):
        sign_in(page, url)
        menu(page, "scorecards")
        page.get_by_role("heading", name="Department scorecards").wait_for()
        assert session_cookie(page) is not None
        page.reload()
        settle(page)
        page.get_by_role("heading", name="Department scorecards").wait_for(timeout=30_000)
        tab = page.context.new_page()  # a new tab of the same browser
        open_url(tab, url + "/backlog")
        tab.get_by_role("heading", name="Backlog").wait_for(timeout=30_000)
        tab.close()

        sign_out(page, url)
        page.goto(url + "/scorecards")
        settle(page)
        page.get_by_role("heading", name="Staff sign-in").wait_for(timeout=30_000)
        assert "Department scorecards" not in page.inner_text("body")


def test_a_shared_staff_link_asks_for_sign_in_then_opens_with_its_parameters(served):
    url, _, browser = served
    link = f"{url}/scorecards?period=Last+30+days&department=Buildings"
    with visitor(browser) as (page, frames):
        open_url(page, link)
        assert_signed_out_view(page, frames)
        fill_sign_in(page, "sam")
        page.get_by_role("heading", name="Department scorecards").wait_for(timeout=30_000)
        settle(page)
        query = parse_qs(urlsplit(page.url).query)
        assert urlsplit(page.url).path == "/scorecards"
        assert query.get("period") == ["Last 30 days"] and query.get("department") == ["Buildings"]
        choices = sidebar_choices(page)
        assert choices["Period"] == "Last 30 days" and choices["Department"] == "Buildings"


def test_a_forged_ended_or_expired_cookie_gets_nothing(served):
    url, store, browser = served
    with visitor(browser, "forged-" + "A" * 43, url) as (page, frames):
        open_url(page, url + "/scorecards")
        assert_signed_out_view(page, frames)

    with visitor(browser) as (page, _):
        sign_in(page, url)
        cookie = session_cookie(page)
        assert cookie is not None
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        token = cookie["value"]
        with visitor(browser, token, url) as (other, _):  # the cookie alone signs a browser in
            open_url(other, url + "/scorecards")
            other.get_by_role("heading", name="Department scorecards").wait_for(timeout=30_000)
        sign_out(page, url)
    with visitor(browser, token, url) as (page, frames):  # ended by the sign-out
        open_url(page, url + "/scorecards")
        assert_signed_out_view(page, frames)

    with visitor(browser) as (page, _):
        sign_in(page, url)
        token = session_cookie(page)["value"]
    with sqlite3.connect(store) as con:  # idle for an hour (the limit is 30 minutes)
        con.execute("update sign_ins set last_seen = last_seen - 3600")
    with visitor(browser, token, url) as (page, frames):
        open_url(page, url + "/scorecards")
        assert_signed_out_view(page, frames)


def test_filters_go_with_the_visitor_through_the_menu(served):
    url, _, browser = served
    with visitor(browser) as (page, _):
        open_url(page, f"{url}/?period=Last+30+days&department=Forestry&map_metric=count_requests")
        assert sidebar_choices(page)["Department"] == "Forestry"
        menu(page, "districts")
        page.get_by_role("heading", name="District briefing").wait_for(timeout=30_000)
        query = parse_qs(urlsplit(page.url).query)
        assert query.get("period") == ["Last 30 days"] and query.get("department") == ["Forestry"]
        assert "map_metric" not in query  # the Overview's own control stays on the Overview
        choices = sidebar_choices(page)
        assert choices["Period"] == "Last 30 days" and choices["Department"] == "Forestry"
        menu(page, "trends")
        query = parse_qs(urlsplit(page.url).query)
        assert query.get("period") == ["Last 30 days"] and query.get("department") == ["Forestry"]


def status_of(address: str) -> int:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_staff_downloads_are_gone_as_soon_as_their_sign_in_ends(served):
    """Streamlit keeps a file while any session shows it (and a disconnected session for a
    while), then marks it, then deletes it at a later clean-up: a tab left open on the backlog
    kept its list downloadable after a sign-out in another tab. Now the sign-out deletes them."""
    url, _, browser = served
    with visitor(browser) as (page, _):
        sign_in(page, url, "ada")
        addresses = []
        menu(page, "quality")  # a file made on click
        page.get_by_text("The quarantined records themselves").click()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the quarantine (CSV)").click()
        addresses.append(download.value.url)
        menu(page, "backlog")  # a file made with the page, which this tab goes on showing
        with page.expect_download() as download:
            page.get_by_role("button", name="Download this list (CSV)").click()
        addresses.append(download.value.url)
        assert all("/media/" in a for a in addresses), addresses
        assert [status_of(a) for a in addresses] == [200, 200]
        other = page.context.new_page()  # another tab of the same browser signs out
        sign_out(other, url)
        assert [status_of(a) for a in addresses] == [404, 404]
