"""AppTest of the staff view: the permission matrix (every page × every role), sign-in and
sign-out, the idle timeout, and what each internal page shows."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from civicstat.accounts.passwords import hash_password
from civicstat.web import auth
from civicstat.web.pages import PAGE_SPECS, ROLES, allowed

from staffcity import HOSTILE, HOSTILE_TYPE, SECRET_DESCRIPTION
from test_support import APP

PASSWORDS = {"sam": "staff password 1", "ada": "admin password 1"}
USERS = {"staff": {"is_logged_in": True, "email": "Staff@City.Example", "email_verified": True,
                   "sub": "s-1", "iat": 1},
         "admin": {"is_logged_in": True, "email": "admin@city.example", "email_verified": True,
                   "sub": "a-1", "iat": 1},
         "anonymous": {"is_logged_in": False}}
INTERNAL_TITLES = {  # page file -> its title when shown
    "internal/scorecards.py": "Department scorecards",
    "internal/backlog.py": "Backlog",
    "internal/requests.py": "Request explorer",
    "internal/quality.py": "Data quality",
    "internal/admin.py": "Admin",
}


@pytest.fixture(scope="module")
def secrets():
    return {"civicstat": {
        "idle_timeout_minutes": 30,
        "roles": {"staff@city.example": "staff", "admin@city.example": "admin"},
        "users": {"sam": {"role": "staff", "password_hash": hash_password(PASSWORDS["sam"])},
                  "ada": {"role": "admin", "password_hash": hash_password(PASSWORDS["ada"])}},
    }}


@pytest.fixture()
def make_app(staff_city, secrets, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(staff_city))
    st.cache_data.clear()
    st.cache_resource.clear()

    def make(role: str = "anonymous", run: bool = True) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=60)
        app.secrets = {"civicstat": dict(secrets["civicstat"])}
        app.user = dict(USERS[role])
        return app.run() if run else app

    return make


def texts(app: AppTest) -> list[str]:
    """Every piece of text the page wrote with a Markdown-capable element."""
    return [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info",
                                 "warning", "error", "success") for e in getattr(app, kind)]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(make_app, role):
    """Every page × this role: a page the role may see runs; any other is not registered (its
    URL answers "page not found"), unless its file serves another page of this role."""
    app = make_app(role)
    assert not app.exception
    served = {spec.file for spec in PAGE_SPECS if allowed(spec, role)}
    for spec in PAGE_SPECS:
        if allowed(spec, role):
            app.switch_page(f"views/{spec.file}").run()
            assert not app.exception, (spec.file, [e.value for e in app.exception])
            want = INTERNAL_TITLES.get(spec.file)
            if want:
                assert app.title[0].value == want
            if spec.title in ("Staff sign-in", "Account"):
                expected = "Staff sign-in" if role == "anonymous" else "Your account"
                assert app.title[0].value == expected
        elif spec.file not in served:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(f"views/{spec.file}")


def test_roles_per_page_are_as_designed():
    rules = {spec.file: spec for spec in PAGE_SPECS if spec.file.startswith("internal/")}
    assert rules["internal/admin.py"].min_role == "admin"
    for page in ("scorecards", "backlog", "requests", "quality"):
        assert rules[f"internal/{page}.py"].min_role == "staff"
    public = [spec for spec in PAGE_SPECS if spec.file.startswith("public/")]
    assert public and all(spec.min_role == "anonymous" for spec in public)


def sign_in(app: AppTest, name: str, password: str) -> AppTest:
    app.switch_page("views/internal/account.py").run()
    boxes = {box.label: box for box in app.text_input}
    boxes["Account name"].input(name)
    boxes["Password"].input(password)
    return next(b for b in app.button if b.label == "Sign in").click().run()


def test_built_in_sign_in_and_out(make_app):
    app = sign_in(make_app(), "sam", PASSWORDS["sam"])
    assert not app.exception
    assert app.title[0].value == "Your account"
    assert "Signed in as sam (staff)" in app.text[0].value
    app.switch_page("views/internal/scorecards.py").run()
    assert app.title[0].value == "Department scorecards"
    with pytest.raises(ValueError):
        app.switch_page("views/internal/admin.py")  # staff: admin is not registered
    app.switch_page("views/internal/account.py").run()
    next(b for b in app.button if b.label == "Sign out").click().run()
    assert app.title[0].value == "Staff sign-in"
    with pytest.raises(ValueError):
        app.switch_page("views/internal/scorecards.py")


@pytest.fixture()
def knock(monkeypatch):
    """Sign-in attempts from a chosen client at a chosen time: AppTest cannot set the connection's
    address, so auth.client_key is replaced; the throttle's clock and its pause are too, and every
    password hash computed is counted."""
    state = {"client": "203.0.113.1", "now": 1_000_000.0, "hashes": 0, "paused": 0.0}
    real_verify, real_spend = auth.verify_password, auth.spend_equal_time

    def verify(password, stored):
        state["hashes"] += 1
        return real_verify(password, stored)

    def spend(password):
        state["hashes"] += 1
        return real_spend(password)

    monkeypatch.setattr(auth, "client_key", lambda: state["client"])
    monkeypatch.setattr(auth, "clock", lambda: state["now"])
    monkeypatch.setattr(auth, "_pause", lambda s: state.update(paused=state["paused"] + s))
    monkeypatch.setattr(auth, "verify_password", verify)
    monkeypatch.setattr(auth, "spend_equal_time", spend)
    return state


def test_wrong_passwords_and_throttling(make_app, knock):
    app = sign_in(make_app(), "sam", "not the password")
    assert app.error[0].value == "Unknown account or wrong password."
    app = sign_in(app, "nobody", "not the password")
    assert app.error[0].value == "Unknown account or wrong password."  # same answer
    for _ in range(4):
        app = sign_in(app, "sam", "still wrong")
    app = sign_in(app, "sam", PASSWORDS["sam"])  # right, but too many failures just now
    assert "Too many failed attempts" in app.error[0].value
    assert app.title[0].value == "Staff sign-in"


def test_an_attacker_cannot_lock_the_owner_out(make_app, knock):
    """The lock-out attempt of issue 16: many wrong passwords for sam from client A; sam, from
    client B, still signs in with the right password."""
    knock["client"] = "198.51.100.7"  # A
    attacker = make_app()
    for _ in range(30):
        attacker = sign_in(attacker, "sam", "a wrong guess")
        knock["now"] += 0.5
    assert "Too many failed attempts" in attacker.error[0].value
    knock["client"] = "203.0.113.20"  # B, the owner
    owner = sign_in(make_app(), "sam", PASSWORDS["sam"])
    assert not owner.error
    assert owner.title[0].value == "Your account"
    assert knock["paused"] <= auth.NAME_MAX_PAUSE * 30  # the name under attack is only slowed


def test_a_failing_client_is_refused_for_any_name_without_a_hash(make_app, knock):
    """Client A sprays wrong passwords over many names; past its limit it is refused for every
    name, the right password for sam included, and no password hash is computed for it."""
    knock["client"] = "198.51.100.7"
    app = make_app()
    for i in range(auth.CLIENT_FREE_FAILURES):
        app = sign_in(app, f"user{i}", "a wrong guess")
        assert app.error[0].value == "Unknown account or wrong password."
    hashes = knock["hashes"]
    for name, password in [("fresh-name", "x"), ("ada", "a wrong guess"), ("sam", PASSWORDS["sam"])]:
        app = sign_in(app, name, password)
        assert "Too many failed attempts" in app.error[0].value, name
        assert app.title[0].value == "Staff sign-in"
    assert knock["hashes"] == hashes  # refused before any hash
    knock["client"] = "203.0.113.20"  # another client is not affected
    app = sign_in(make_app(), "ada", PASSWORDS["ada"])
    assert app.title[0].value == "Your account"


def test_the_wait_grows_and_the_window_expires(make_app, knock):
    app = make_app()
    for _ in range(auth.PAIR_FREE_FAILURES):
        app = sign_in(app, "sam", "a wrong guess")
    app = sign_in(app, "sam", PASSWORDS["sam"])
    assert "Try again in 1 second." in app.error[0].value
    knock["now"] += 1.5  # the first wait is over: one more try, wrong, doubles it
    app = sign_in(app, "sam", "a wrong guess")
    assert app.error[0].value == "Unknown account or wrong password."
    app = sign_in(app, "sam", PASSWORDS["sam"])
    assert "Try again in 2 seconds." in app.error[0].value
    for doubling in range(1, 11):  # each wait sat out, each try wrong: the wait reaches its cap
        knock["now"] += 2**doubling + 0.5
        app = sign_in(app, "sam", "a wrong guess")
        assert app.error[0].value == "Unknown account or wrong password."
    app = sign_in(app, "sam", PASSWORDS["sam"])
    assert "Try again in 15 minutes" in app.error[0].value
    knock["now"] += auth.FAILURE_WINDOW_SECONDS  # every failure forgotten
    app = sign_in(app, "sam", PASSWORDS["sam"])
    assert app.title[0].value == "Your account"


@pytest.mark.parametrize(("peer", "forwarded", "key"), [
    ("93.184.216.34", [], "93.184.216.34"),  # straight from the internet
    ("93.184.216.34", ["203.0.113.9"], "93.184.216.34"),  # a public client cannot choose its key
    ("2606:4700::1", ["203.0.113.9"], "2606:4700::1"),
    ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    (None, ["203.0.113.9"], "203.0.113.9"),  # a proxy on this host
    ("10.0.0.5", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),  # a proxy on the network: its entry
    (None, [], "local"),
    ("not an address", ["203.0.113.9"], "not an address"),
])
def test_the_client_key(peer, forwarded, key):
    assert auth.client_from(peer, forwarded) == key


def test_the_throttle_memory_is_bounded(make_app, knock, monkeypatch):
    monkeypatch.setattr(auth, "MAX_ENTRIES", 30)
    app = make_app()
    for i in range(40):
        knock["client"] = f"198.51.100.{i}"
        knock["now"] += 1
        app = sign_in(app, f"user{i}", "a wrong guess")
    failures = auth._failures()
    assert len(failures) <= 30
    assert ("client", "198.51.100.39") in failures  # the newest are kept


def test_idle_session_is_signed_out(make_app, monkeypatch):
    app = sign_in(make_app(), "ada", PASSWORDS["ada"])
    app.switch_page("views/internal/admin.py").run()
    assert app.title[0].value == "Admin"
    real = auth.time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + 29 * 60)
    app.run()
    assert app.title[0].value == "Admin"  # 29 minutes: still signed in (and the clock restarts)
    monkeypatch.setattr(auth.time, "time", lambda: real() + 29 * 60 + 31 * 60)
    app.switch_page("views/internal/account.py").run()
    assert app.title[0].value == "Staff sign-in"
    assert "without activity" in app.toast[0].value
    with pytest.raises(ValueError):
        app.switch_page("views/internal/admin.py")


def test_a_removed_account_is_signed_out(make_app):
    app = sign_in(make_app(), "sam", PASSWORDS["sam"])
    assert app.title[0].value == "Your account"
    app.secrets["civicstat"] = {**app.secrets["civicstat"], "users": {}}
    app.run()
    assert app.title[0].value == "Staff sign-in"


def test_single_sign_on_without_a_role(make_app):
    app = make_app("anonymous")
    app.user = {"is_logged_in": True, "email": "someone@elsewhere.example", "sub": "x"}
    app.switch_page("views/internal/account.py").run()
    assert app.title[0].value == "Staff sign-in"
    assert "no staff role" in app.warning[0].value
    with pytest.raises(ValueError):
        app.switch_page("views/internal/scorecards.py")


@pytest.mark.parametrize("verified", [False, None, "yes", 1])
def test_an_email_not_said_to_be_verified_gets_no_role(make_app, verified):
    """Only email_verified = true (or "true") counts: a provider that sends nothing, or
    anything else, does not vouch for the address."""
    app = make_app("anonymous")
    app.user = {**USERS["admin"], "email_verified": verified}
    if verified is None:
        del app.user["email_verified"]
    app.run()
    with pytest.raises(ValueError):
        app.switch_page("views/internal/admin.py")


def open_page(make_app, role: str, page: str, **query: str) -> AppTest:
    """A fresh session of `role` whose first run is `page`, its URL carrying `query` (bound
    widgets read the URL when they start). The page's url path is its file name."""
    app = make_app(role, run=False)
    app.switch_page(f"views/internal/{page}.py")
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def test_scorecards_drill_down_from_the_url(make_app):
    app = open_page(make_app, "admin", "scorecards")
    table = app.dataframe[0].value
    assert table.columns[0] == "Department" and table.iloc[0, 0] == "All departments"
    assert len(table) >= 11 and not app.exception

    app = open_page(make_app, "admin", "scorecards", department="Streets & Sanitation")
    table = app.dataframe[0].value
    assert table.columns[0] == "Request type"
    assert HOSTILE_TYPE in table["Request type"].tolist()  # shown as a value in a cell

    app = open_page(make_app, "admin", "scorecards", department="Streets & Sanitation",
                    request_type=HOSTILE_TYPE)
    assert not app.exception
    requests = next(d.value for d in app.dataframe if "request_id" in d.value.columns)
    assert set(requests["request_id"]) >= {"X-HOSTILE-SCRIPT", "X-SECRET"}
    assert all(HOSTILE["script"] not in text for text in texts(app))


def test_request_explorer_shows_a_request_whole_as_text(make_app):
    for name, text in HOSTILE.items():
        app = open_page(make_app, "staff", "requests", request_id=f"X-HOSTILE-{name.upper()}")
        assert not app.exception
        assert text in [t.value for t in app.text]  # the description, verbatim, as st.text
        assert all(text not in t and "<svg" not in t for t in texts(app))
    app = open_page(make_app, "staff", "requests", request_id="RIV-00000017")  # a demo request
    assert not app.exception and app.dataframe[0].value["Value"].str.len().min() > 0
    app = open_page(make_app, "staff", "requests", request_id="X-SECRET")
    assert SECRET_DESCRIPTION in [t.value for t in app.text]
    assert any("Median" in t.value for t in app.text)  # compared with its type
    assert app.metric[0].value == "closed"


def test_backlog_quality_and_admin_render(make_app):
    app = make_app("admin")
    for page, check in (
        ("backlog", lambda a: a.metric[0].label == "Open now"),
        ("quality", lambda a: a.metric[0].value == "2"),  # two records quarantined
        ("admin", lambda a: len(a.dataframe) >= 5),
    ):
        app.switch_page(f"views/internal/{page}.py").run()
        assert not app.exception, page
        assert check(app), page
    app = open_page(make_app, "admin", "backlog", by="Request type")  # the label is in the URL
    assert app.dataframe[0].value.columns[0] == "Request type"


def test_request_explorer_lists_the_newest_and_exports_on_click(make_app, monkeypatch):
    """Many matches: the newest MAX_LISTED are listed (and mapped); the download of up to
    MAX_EXPORTED is prepared only when clicked, so the page render never fetches it."""
    from civicstat.core import explorer
    from civicstat.serve import queries

    monkeypatch.setattr(explorer, "MAX_LISTED", 40)
    limits = []
    original = queries.Query.run

    def recording_run(self, con, values):
        if self.name == "requests_search":
            limits.append(values["limit"])
        return original(self, con, values)

    monkeypatch.setattr(queries.Query, "run", recording_run)
    app = open_page(make_app, "staff", "requests")
    assert not app.exception
    assert limits == [40]
    assert len(app.dataframe[0].value) == 40
    assert any("the newest 40 are listed and mapped" in c.value for c in app.caption)
    buttons = [b.proto for b in app.get("download_button")]
    assert len(buttons) == 1 and buttons[0].deferred_file_id


def test_staff_url_bound_widgets_fall_back_on_a_value_that_is_not_an_option(make_app):
    """Issue 16, item 7 on the staff pages: an empty, unknown or hostile URL value of a bound
    widget falls back to its default; a forged deselection of a required control too."""
    hostile = "<img src=x onerror=alert(1)>\n' or 1=1 --"
    for page, name in (("backlog", "by"), ("requests", "status"), ("requests", "request_id"),
                       ("requests", "address"), ("backlog", "department")):
        for value in ("", "no-such-option", hostile):
            app = open_page(make_app, "staff", page, **{name: value})
            assert not app.exception and not app.error, (page, name, value)
    app = open_page(make_app, "staff", "backlog")
    app.segmented_control(key="by").set_value(None).run()
    assert not app.exception and not app.error
    assert app.dataframe[0].value.columns[0] == "Department"


@pytest.mark.parametrize(("section", "missing"), [
    ({"redirect_uri": "u", "cookie_secret": "c", "client_id": "i", "client_secret": "s",
      "server_metadata_url": "m"}, []),
    ({"redirect_uri": "u", "cookie_secret": "c",
      "google": {"client_id": "i", "client_secret": "s", "server_metadata_url": "m"}}, []),
    ({"redirect_uri": "u", "client_id": "i"}, ["cookie_secret", "client_secret", "server_metadata_url"]),
    ({}, ["redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"]),
])
def test_what_single_sign_on_lacks(section, missing):
    assert auth.sso_missing(section) == missing


def test_a_half_written_auth_section_offers_no_failing_button(make_app, secrets):
    """[auth] without its provider: no single sign-on button (st.login would fail), a warning
    naming what is missing, and the built-in sign-in still there."""
    app = make_app("anonymous", run=False)
    app.secrets = {"civicstat": dict(secrets["civicstat"]),
                   "auth": {"redirect_uri": "http://localhost:8501/oauth2callback"}}
    app.switch_page("views/internal/account.py").run()
    assert not app.exception
    assert not [b for b in app.button if "single sign-on" in b.label]
    assert "lacks cookie_secret, client_id, client_secret, server_metadata_url" in app.warning[0].value
    assert app.text_input  # the account form


def test_the_shipped_configuration_hides_errors_and_keeps_protections():
    """.streamlit/config.toml: error details hidden from visitors, no usage statistics sent,
    cross-site request forgery protection on; the secrets file is written owner-only."""
    import tomllib

    from test_support import APP

    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] in ("none", False)
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("enableCORS", True) is True
    assert config["client"]["toolbarMode"] == "viewer"


def test_the_secrets_file_is_owner_only(tmp_path):
    from civicstat.accounts.users import add_user

    secrets_file = tmp_path / "secrets.toml"
    add_user(secrets_file, "sam", "staff", "a long enough password 1")
    assert secrets_file.stat().st_mode & 0o777 == 0o600


def test_admin_and_quality_say_what_their_figures_are(make_app):
    """A public type reads 'published in full' (not None); the flags tile says duplicates are
    apart, beside a chart of flags and duplicates (issue 13, item 9)."""
    app = open_page(make_app, "admin", "admin")
    policy = next(frame.value for frame in app.dataframe if "privacy_tier" in frame.value)
    assert policy["privacy_tier"].notna().all()
    assert "published in full" in set(policy["privacy_tier"])
    app = open_page(make_app, "admin", "quality")
    assert [m.label for m in app.metric][1] == "Flags besides duplicates"
    assert "Flags and duplicates, by month" in [s.value for s in app.subheader]


def test_a_backlog_mostly_over_a_year_old_gets_a_note(make_app, monkeypatch, tmp_path):
    """25 requests opened in 2021 beside the small city's few recent ones: most of the backlog
    is over a year old, and the page says what that often means."""
    from civicstat.core import methodology
    from civicstat.publish.build import publish

    from smallcity import ROWS, make_small_city

    old = [(f"old-{n}", "2021-06-01 09:00", None, "2021-06-03 09:00", "open", None, "Streets",
            "Pothole", "D1", 40.02, -74.95, "phone") for n in range(25)]
    publish(make_small_city(tmp_path, ROWS + old))
    monkeypatch.setenv("CIVICSTAT_CITY", str(tmp_path))
    app = open_page(make_app, "admin", "backlog")
    notes = [w.value for w in app.warning]
    assert any("25 of the 28 open requests" in note and "more than 365 days ago" in note
               for note in notes), notes
    assert methodology.stale_backlog_note(28, 13) is None  # under half
    assert methodology.stale_backlog_note(19, 19) is None  # too few to say
    assert methodology.stale_backlog_note(20, 10) is not None
