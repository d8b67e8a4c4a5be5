"""Shared pytest fixtures: the real exports in ../shared/data, tiny cities built on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: skipped with a message when absent, a failure in CI (CI=true)."""
    if not SHARED_DATA.is_dir():
        message = f"real exports not found at {SHARED_DATA} (../shared beside the project)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must have them")
        pytest.skip(message)
    return SHARED_DATA


DEMO_TEST_ROWS = 60_000


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory) -> Path:
    """A small demo city (60,000 requests, the default seed), built and published once."""
    from civicstat.core.city import load_city
    from civicstat.demo.generator import build_demo
    from civicstat.publish.build import publish

    root = tmp_path_factory.mktemp("demo")
    build_demo(root, rows=DEMO_TEST_ROWS)
    publish(load_city(root))
    return root


@pytest.fixture(scope="session")
def staff_city(tmp_path_factory) -> Path:
    """A small demo city plus a file of messy and hostile records (tests/staffcity.py), for the
    staff pages: quarantine, flags and markup-laden text on every page. Built once."""
    from staffcity import build_staff_city

    return build_staff_city(tmp_path_factory.mktemp("staff"))


@pytest.fixture()
def release_snapshots():
    """Drop the app's cached snapshot connections after a test: a later test of the session
    that opens the same snapshot with another configuration would otherwise fail to connect."""
    import gc

    import streamlit as st

    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()
