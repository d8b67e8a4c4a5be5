"""Commitments in the app (issue 15): staff list, record and see them (on their page, on the
scorecard rows, in the district briefing); a visitor who is not signed in reaches none of it, by
any URL or function; what is recorded survives a publish and a restart of the app."""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_commitments import FIRST, SECOND

from civicstat.commitments.store import CommitmentStore
from civicstat.core.city import load_city
from civicstat.core.commitments import Commitment
from civicstat.publish.build import publish

from smallcity import make_small_city
from test_support import APP

MARK_NOTE = "CIVICSTAT-COMMITMENT-NOTE pothole blitz"
MARK_OWNER = "CIVICSTAT-COMMITMENT-OWNER"
STAFF = {"is_logged_in": True, "email": "staff@city.example", "email_verified": True,
         "sub": "s-1", "iat": 1}
SECRETS = {"civicstat": {"idle_timeout_minutes": 30, "roles": {"staff@city.example": "staff"}}}


@pytest.fixture()
def city(tmp_path, monkeypatch):
    make_small_city(tmp_path, rows=FIRST + SECOND)
    publish(load_city(tmp_path))
    store = CommitmentStore(tmp_path)
    store.add(Commitment(department="Streets", district="D1", metric="on_time_rate", target=0.5,
                         due_date=dt.date(2024, 4, 15), owner=MARK_OWNER, note=MARK_NOTE),
              actor="sam")
    store.add(Commitment(department="Parks", metric="count_overdue", target=5,
                         due_date=dt.date(2024, 6, 30), owner="Parks director"), actor="sam")
    monkeypatch.setenv("CIVICSTAT_CITY", str(tmp_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    return tmp_path


def app_as(role: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.secrets = {"civicstat": dict(SECRETS["civicstat"])}
    app.user = dict(STAFF) if role == "staff" else {"is_logged_in": False}
    return app.run()


def everything(app: AppTest) -> str:
    """Every text and table cell the page produced."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info",
                                  "warning", "error", "success") for e in getattr(app, kind)]
    parts += [frame.value.to_csv() for frame in app.dataframe]
    return "\n".join(str(p) for p in parts)


def test_visitor_reaches_no_commitment(city):
    app = app_as("anonymous")
    assert not app.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/internal/commitments.py")
    app.switch_page("views/public/districts.py").run()  # the briefing's first district is D1
    assert not app.exception
    shown = everything(app)
    assert "service requests briefing" in shown
    assert "Commitments" not in shown and MARK_NOTE not in shown and MARK_OWNER not in shown


def _write_anonymously() -> None:
    import datetime as dt

    import streamlit as st

    from civicstat.core.commitments import Commitment
    from civicstat.web import commitments
    from civicstat.web.data import StaffOnly

    try:
        commitments.record(Commitment(department="Streets", metric="count_open", target=1,
                                      due_date=dt.date(2024, 5, 1), note="should never be written"))
        st.text("written")
    except StaffOnly:
        st.text("refused")


def _read_anonymously() -> None:
    import streamlit as st

    from civicstat.web import commitments
    from civicstat.web.data import StaffOnly

    try:
        st.text(str(len(commitments.judged())))
    except StaffOnly:
        st.text("refused")


@pytest.mark.parametrize("script", [_write_anonymously, _read_anonymously])
def test_commitment_functions_refuse_a_visitor(city, script):
    app = AppTest.from_function(script, default_timeout=60)
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception
    assert [t.value for t in app.text] == ["refused"]
    assert len(CommitmentStore(city).list()) == 2


def test_staff_list_record_and_see_everywhere(city):
    app = app_as("staff")
    app.switch_page("views/internal/commitments.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Commitments"
    listed = app.dataframe[0].value
    assert list(listed["Owner"]) == [MARK_OWNER, "Parks director"]
    assert set(listed["Status"]) <= {"✔ Met", "✖ Missed", "● On track", "◐ At risk",
                                     "– No figure yet"}

    # record one through the form (its widgets by key: the sidebar has a Department filter too)
    app.selectbox(key="record_commitment_department").select("Parks")
    app.selectbox(key="record_commitment_metric").select("median_days_to_close")
    app.number_input(key="record_commitment_target").set_value(4.0)
    app.text_input(key="record_commitment_owner").input("Parks deputy")
    next(b for b in app.button if b.label == "Record commitment").click().run()
    assert not app.exception, app.exception
    assert any("Recorded" in s.value for s in app.success)
    made = CommitmentStore(city).list()[-1]
    assert (made.department, made.metric, made.target, made.owner, made.made_by) == (
        "Parks", "median_days_to_close", 4.0, "Parks deputy", "staff@city.example")

    # the scorecard's rows say how many commitments each department has (in its second table,
    # beside the score and the changes: the first one fits 1366 px)
    app.switch_page("views/internal/scorecards.py").run()
    assert not app.exception, app.exception
    table = next(d.value for d in app.dataframe if "Commitments" in d.value.columns)
    by_name = dict(zip(table["Department"], table["Commitments"], strict=True))
    assert by_name["Parks"].startswith("2:") and by_name["Streets"].startswith("1:")

    # the district briefing shows D1's commitment to staff
    app.switch_page("views/public/districts.py").run()
    assert not app.exception, app.exception
    shown = everything(app)
    assert "Commitments in D1 (staff only)" in shown and MARK_OWNER in shown

    # a publish and a restart of the app: still there
    publish(load_city(city))
    st.cache_data.clear()
    st.cache_resource.clear()
    again = app_as("staff")
    again.switch_page("views/internal/commitments.py").run()
    assert list(again.dataframe[0].value["Owner"]) == [MARK_OWNER, "Parks director", "Parks deputy"]


def test_staff_edit_and_close_with_history(city):
    app = app_as("staff")
    app.switch_page("views/internal/commitments.py")
    app.query_params["commitment"] = "1"
    app.run()
    assert not app.exception, app.exception
    assert any("Edit, close, history" in h.value for h in app.subheader)
    app.text_input(key="edit_owner_1").input("New owner")
    app.text_input(key="edit_reason_1").input("reorganised")
    next(b for b in app.button if b.label == "Save changes").click().run()
    assert not app.exception, app.exception
    assert any(s.value == "Saved." for s in app.success)
    next(b for b in app.button if b.label == "Close commitment").click().run()  # no reason
    assert any("needs a reason" in e.value for e in app.error)
    assert not CommitmentStore(city).get(1).closed
    app.text_input(key="close_reason_1").input("done early")
    next(b for b in app.button if b.label == "Close commitment").click().run()
    assert any(s.value == "Closed." for s in app.success)
    events = CommitmentStore(city).history(1)
    assert [(e["action"], e["actor"]) for e in events] == [
        ("made", "sam"), ("edited", "staff@city.example"), ("closed", "staff@city.example")]
    assert events[1]["details"] == {"changes": {"owner": [MARK_OWNER, "New owner"]},
                                    "reason": "reorganised"}
    assert events[2]["details"] == {"reason": "done early"}
    app.run()
    history = app.dataframe[-1].value
    assert list(history["What"]) == ["made", "edited", "closed"]
    assert CommitmentStore(city).get(1).close_reason == "done early"
