"""The data layer's second lock: internal data only for a session with a staff role."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from civicstat.web import auth


def _page_calling_internal_query():
    """A page script that (wrongly, for a public page) asks for internal data."""
    import streamlit as st

    from civicstat.web import data

    try:
        st.write(f"{len(data.internal_query('sources'))} sources")
    except data.StaffOnly as refused:
        st.write(f"refused: {refused}")


@pytest.fixture()
def app(staff_city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(staff_city))
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_function(_page_calling_internal_query, default_timeout=60)


@pytest.mark.parametrize("role", ["anonymous", None])
def test_internal_query_refused_without_a_staff_role(app, role):
    if role:
        app.session_state[auth.IDENTITY_KEY] = auth.Identity(role)
    app.run()
    shown = [m.value for m in app.markdown]
    assert shown == ["refused: internal data needs a staff role (this session: anonymous)"], shown


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_internal_query_answers_staff(app, role):
    app.session_state[auth.IDENTITY_KEY] = auth.Identity(role, "sam", "password")
    app.run()
    assert not app.exception
    assert any(m.value.endswith(" sources") for m in app.markdown)
