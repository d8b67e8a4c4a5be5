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


def _page_downloading_twice():
    import streamlit as st

    from civicstat.core.filters import DIMENSIONS, Filters, resolve_period
    from civicstat.web import data

    info = data.public_info()
    as_of = info["as_of"].to_pydatetime()
    filters = Filters(resolve_period("365d", as_of), as_of, dict.fromkeys(DIMENSIONS))
    first = data.open_data_file("csv", filters)
    second = data.open_data_file("csv", filters)
    parquet = data.open_data_file("parquet", filters)
    st.write(f"{len(first)} {first == second} {len(parquet) > 0}")


def test_an_open_data_file_is_made_once_and_its_rows_stay_out_of_the_result_cache(
        staff_city, monkeypatch):
    """A repeated download costs nothing (the file is kept, a few at most) and the records are
    read without filling the 500-entry result cache with large frames."""
    from civicstat.serve.queries import Query

    runs = []
    real_run = Query.run

    def counting_run(self, con, values):
        runs.append(self.name)
        return real_run(self, con, values)

    monkeypatch.setattr(Query, "run", counting_run)
    monkeypatch.setenv("CIVICSTAT_CITY", str(staff_city))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_function(_page_downloading_twice, default_timeout=60).run()
    assert not app.exception, app.exception
    size, same, parquet = app.markdown[0].value.split()
    assert int(size) > 1000 and same == "True" and parquet == "True"
    assert runs.count("open_data_records") == 2  # once per format, not per click
