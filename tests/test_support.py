"""Helpers shared by the AppTest modules."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from civicstat.web.pages import VIEWS_DIR

APP = Path(__file__).resolve().parent.parent / "app.py"


def run_public_page(page: str, **params: str) -> AppTest:
    """Run one public page (views/<page>) with these URL parameters, caches cleared; the page
    must not raise. The overview runs through the router; the other pages as scripts of their
    own (AppTest's switch_page loses URL-bound widget values, and pages need nothing from the
    router). CIVICSTAT_CITY must name the city."""
    st.cache_data.clear()
    st.cache_resource.clear()
    script = APP if page == "public/overview.py" else VIEWS_DIR / page
    app = AppTest.from_file(str(script), default_timeout=60)
    for name, value in params.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, app.exception
    return app


def metric_values(app: AppTest) -> dict[str, str]:
    """{label: value} of every st.metric on the page."""
    return {m.label: m.value for m in app.metric}
