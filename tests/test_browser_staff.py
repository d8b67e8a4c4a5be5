"""The staff view in a real browser: built-in sign-in (and its idle timeout), single sign-on
against oidc-provider-mock, the sign-in form for anonymous visitors at staff URLs with no internal
data on the wire, hostile text shown as text and never run, and the screenshots of each staff page."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

from civicstat.accounts.passwords import hash_password

from browser_support import (
    ARTIFACTS,
    browser_page,
    free_port,
    serve_app,
    submit_sign_in,
    wait_for_app,
)
from staffcity import HOSTILE, HOSTILE_ADDRESS, HOSTILE_TYPE, SECRET_ADDRESS, SECRET_DESCRIPTION

pytestmark = pytest.mark.browser

STAFF_PAGES = ("scorecards", "backlog", "requests", "quality", "admin")
ACCOUNTS = {"sam": ("staff", "staff password 1"), "ada": ("admin", "admin password 1")}


def write_secrets(folder: Path, *, idle_minutes: float = 30, auth: dict | None = None,
                  roles: dict | None = None) -> Path:
    lines = ["[civicstat]", f"idle_timeout_minutes = {idle_minutes}", ""]
    for name, (role, password) in ACCOUNTS.items():
        lines += [f"[civicstat.users.{name}]", f'role = "{role}"',
                  f'password_hash = "{hash_password(password)}"', ""]
    if roles:
        lines += ["[civicstat.roles]", *(f'"{email}" = "{role}"' for email, role in roles.items()),
                  ""]
    if auth:
        lines += ["[auth]", *(f'{key} = "{value}"' for key, value in auth.items()), ""]
    path = folder / "secrets.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@contextlib.contextmanager
def staff_app(city: Path, secrets: Path):
    """The app for `city`, reading `secrets`."""
    with serve_app(city, {"STREAMLIT_SECRETS_FILES": str(secrets)}) as url:
        yield url


def open_url(page, url: str) -> None:
    """Go to `url` and wait for the app."""
    page.goto(url)
    settle(page)


@pytest.fixture(scope="module")
def staff_server(staff_city, tmp_path_factory):
    """One app for the tests that need no special settings: the staff city, 30-minute idle."""
    with staff_app(staff_city, write_secrets(tmp_path_factory.mktemp("secrets"))) as url:
        yield url


def watch(page) -> list[str]:
    """Collect JavaScript dialogs (alert, confirm...) and page errors: none may happen."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: seen.append(f"error: {error}"))
    return seen


def settle(page, seconds: float = 0.8) -> None:
    wait_for_app(page)
    time.sleep(seconds)
    wait_for_app(page)



def sign_in(page, url: str, name: str) -> None:
    open_url(page, url + "/account")
    submit_sign_in(page, name, ACCOUNTS[name][1])
    settle(page)


def go(page, path: str) -> None:
    """Open a staff page from the top navigation (same session: a built-in sign-in is kept)."""
    page.get_by_text("Staff", exact=True).first.click()
    page.locator(f'a[href$="/{path}"]').first.click()
    settle(page)


def screenshot(page, name: str, width: int = 1920) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, height)})
    time.sleep(1.5)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})
    return path


def body_text(page) -> str:
    return page.inner_text("body")


def test_built_in_sign_in_idle_timeout_and_reload(staff_city, tmp_path):
    secrets = write_secrets(tmp_path, idle_minutes=0.2)  # 12 seconds
    with staff_app(staff_city, secrets) as url, browser_page() as (page, _):
        problems = watch(page)
        open_url(page, url + "/account")
        page.get_by_label("Account name").fill("sam")
        page.get_by_label("Password", exact=True).fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Unknown account or wrong password.").wait_for()
        page.get_by_label("Password", exact=True).fill(ACCOUNTS["sam"][1])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Your account").wait_for(timeout=30_000)
        assert "Signed in as sam (staff)" in body_text(page)

        page.get_by_text("Staff", exact=True).first.click()
        menu = page.locator('a[href$="/scorecards"], a[href$="/admin"]')
        assert [menu.nth(i).get_attribute("href").rsplit("/", 1)[1] for i in range(menu.count())] \
            == ["scorecards"]  # staff: no admin page
        page.locator('a[href$="/scorecards"]').first.click()
        settle(page)
        page.get_by_role("heading", name="Department scorecards").wait_for()
        page.wait_for_selector(".js-plotly-plot .barlayer .trace path", timeout=30_000)

        # idle for longer than the timeout: the open page signs itself out and drops the page
        page.wait_for_function(
            "() => !document.body.innerText.includes('Department scorecards')", timeout=40_000)
        settle(page)
        assert page.get_by_text("Staff", exact=True).count() == 0  # no staff menu any more
        assert problems == []

        page.reload()  # the browser still holds the sign-in cookie; the server ended its sign-in
        settle(page)
        page.get_by_role("heading", name="Staff sign-in").wait_for()
        assert "Department scorecards" not in body_text(page)


def test_anonymous_gets_the_sign_in_form_and_no_internal_data(staff_server):
    """A staff page's URL shows a signed-out visitor the sign-in form (a shared link then opens
    after sign-in: tests/test_browser_links.py), and nothing of the page on screen or wire."""
    url = staff_server
    markers = [SECRET_ADDRESS, SECRET_DESCRIPTION, "X-HOSTILE", "Department scorecards",
               "Request explorer", "internal view", "Quarantined records", "Ingest runs"]
    with browser_page() as (first, _):
        for path in STAFF_PAGES:
            page = first.context.browser.new_page()  # a new session for each URL
            frames: list[bytes] = []
            page.on("websocket", lambda ws, frames=frames: ws.on(
                "framereceived",
                lambda payload: frames.append(payload if isinstance(payload, bytes)
                                              else payload.encode())))
            page.goto(f"{url}/{path}")
            page.get_by_role("heading", name="Staff sign-in").wait_for(timeout=30_000)
            settle(page)
            text, wire = body_text(page), b"".join(frames)
            assert frames, "no websocket traffic was seen"
            for marker in markers:
                assert marker not in text, (path, marker)
                assert marker.encode() not in wire, (path, marker)
            page.close()


def _oidc_mock():
    try:
        from oidc_provider_mock import User, run_server_in_thread
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("oidc-provider-mock is not installed; CI must have it ([test] extras)")
        pytest.skip("oidc-provider-mock is not installed (pip install -e '.[test]')")
    return User, run_server_in_thread


def test_single_sign_on_against_a_mock_provider(staff_city, tmp_path):
    User, run_server_in_thread = _oidc_mock()
    users = [User(sub="boss", claims={"email": "boss@city.example", "email_verified": True}),
             User(sub="clerk", claims={"email": "clerk@city.example", "email_verified": True})]
    oidc_port = free_port()
    with run_server_in_thread(port=oidc_port, user_claims=users):
        secrets = write_secrets(
            tmp_path,
            roles={"boss@city.example": "admin", "clerk@city.example": "staff"},
            auth={
                "redirect_uri": "http://localhost:{port}/oauth2callback",
                "cookie_secret": "a-test-cookie-secret-that-is-long-enough",
                "client_id": "civicstat-test",
                "client_secret": "civicstat-test-secret",
                "server_metadata_url":
                    f"http://127.0.0.1:{oidc_port}/.well-known/openid-configuration",
            },
        )
        with staff_app(staff_city, secrets) as url, browser_page() as (page, _):
            base = url.replace("127.0.0.1", "localhost")  # the host of the redirect URI
            problems = watch(page)

            def single_sign_on(sub: str) -> None:
                open_url(page, base + "/account")
                page.get_by_role("button", name="Sign in with single sign-on").click()
                page.wait_for_url(f"http://127.0.0.1:{oidc_port}/**", timeout=30_000)
                page.get_by_role("button", name=sub, exact=True).click()  # the mock's login form
                page.wait_for_url(base + "/**", timeout=30_000)
                settle(page)

            single_sign_on("clerk")
            for path, shown in (("scorecards", True), ("requests", True), ("admin", False)):
                page.goto(f"{base}/{path}")  # a new session each time: the cookie signs it in
                settle(page)
                assert page.get_by_text("Page not found").is_visible() is not shown, path
            page.goto(base + "/account")
            settle(page)
            assert "Signed in as clerk@city.example (staff), with single sign-on" in body_text(page)
            page.get_by_role("button", name="Sign out").click()
            # Streamlit forgets the identity, then sends the browser to the provider's end of
            # session (the mock asks to confirm), which sends it back to the app
            page.wait_for_url(f"http://127.0.0.1:{oidc_port}/oauth2/end_session**",
                              timeout=30_000)
            page.get_by_role("button", name="End session").click()
            page.wait_for_url(base + "/**", timeout=30_000)
            settle(page)
            page.goto(base + "/scorecards")  # signed out: the sign-in form, not the page
            page.get_by_role("heading", name="Staff sign-in").wait_for(timeout=30_000)

            single_sign_on("boss")
            page.goto(base + "/admin")
            settle(page)
            page.get_by_role("heading", name="Admin").wait_for()
            page.goto(base + "/account")
            settle(page)
            assert "Signed in as boss@city.example (admin)" in body_text(page)
            assert problems == []


def test_hostile_text_shows_as_text_everywhere(staff_server):
    url = staff_server
    injected = "document.querySelectorAll('img[src=\"x\"], svg[onload], a[href^=\"javascript\"]').length"
    with browser_page() as (page, _):
        problems = watch(page)
        sign_in(page, url, "ada")
        for path in STAFF_PAGES:
            go(page, path)
            assert page.evaluate(injected) == 0, path
            if path == "quality":  # this city has quarantined and flagged records to show
                page.wait_for_selector(".js-plotly-plot .barlayer .trace path", timeout=30_000)
                screenshot(page, "staff-quality")
        # the drill-down to the hostile request type, and its requests
        go(page, "scorecards")
        choose(page, "Department", "Streets & Sanitation")
        choose(page, "Request type", HOSTILE_TYPE)
        page.wait_for_selector('[data-testid="stDataFrame"] >> nth=1')
        assert page.evaluate(injected) == 0
        # each hostile description, whole, in the request explorer
        go(page, "requests")
        for name, text in HOSTILE.items():
            box = page.get_by_role("textbox", name="Request id")
            box.fill(f"X-HOSTILE-{name.upper()}")
            box.press("Enter")
            settle(page)
            page.get_by_text(text, exact=True).first.wait_for()  # the card (and the list)
            assert page.get_by_text(HOSTILE_ADDRESS).count() >= 1
            assert page.evaluate(injected) == 0, name
        page.get_by_role("tab", name="Map").click()
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
        time.sleep(2)
        assert problems == [], problems


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar selectbox labelled `label`."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True))
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def slow_pothole(city: Path) -> str:
    """A recent pothole that took longer than most, with the resident's words."""
    import duckdb

    with duckdb.connect(str(city / "build" / "internal.duckdb"), read_only=True) as con:
        return con.execute(
            "select request_id from requests where request_type = 'Pothole' and days_to_close > 3 "
            "and length(description) > 40 order by created_at desc limit 1"
        ).fetchone()[0]


def test_screenshots_of_each_staff_page(demo_city, tmp_path):
    """What a city manager puts on the meeting-room screen; saved in test-artifacts/."""
    secrets = write_secrets(tmp_path)
    with staff_app(demo_city, secrets) as url, browser_page(width=1920) as (page, errors):
        problems = watch(page)
        sign_in(page, url, "ada")
        go(page, "scorecards")
        page.wait_for_selector(".js-plotly-plot .barlayer .trace path", timeout=30_000)
        shots = [screenshot(page, "staff-scorecards")]
        go(page, "backlog")  # filters follow the session from page to page: city-wide here
        page.wait_for_selector(".js-plotly-plot .barlayer .trace path", timeout=30_000)
        shots.append(screenshot(page, "staff-backlog"))
        go(page, "scorecards")
        choose(page, "Department", "Buildings")
        shots.append(screenshot(page, "staff-scorecards-buildings"))
        go(page, "requests")
        choose(page, "Department", "Streets & Sanitation")
        choose(page, "Request type", "Pothole")
        page.get_by_role("tab", name="Map").click()
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
        time.sleep(3)
        shots.append(screenshot(page, "staff-requests-map"))
        page.get_by_role("tab", name="List").click()
        box = page.get_by_role("textbox", name="Request id")
        box.fill(slow_pothole(demo_city))
        box.press("Enter")
        settle(page)
        page.get_by_text("Description (the resident").wait_for()
        shots.append(screenshot(page, "staff-requests"))
        go(page, "admin")
        shots.append(screenshot(page, "staff-admin"))
        assert all(shot.stat().st_size > 40_000 for shot in shots)
        assert problems == [] and errors == []
