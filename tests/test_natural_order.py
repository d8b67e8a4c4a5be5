"""Pickers list their values in natural order ("District 2" before "District 10") on every page:
one key, core.filters.natural_key, applied where the choices are built (web.ui._choices)."""

from __future__ import annotations

import pytest
from test_app_scorecards import open_scorecards

from civicstat.core.filters import natural_key

from test_support import run_public_page

DEMO_DISTRICTS = [f"District {n}" for n in range(1, 15)]  # the demo city's fourteen


pytestmark = pytest.mark.usefixtures("release_snapshots")


def test_natural_key_orders_numbers_as_numbers():
    values = ["District 10", "District 2", "district 1", "District 1", "Ward 10", "Ward 3A",
              "12", "2", "apple", "Apple", "(not set)"]
    assert sorted(values, key=natural_key) == [
        "2", "12", "(not set)", "Apple", "apple", "District 1", "district 1", "District 2",
        "District 10", "Ward 3A", "Ward 10",
    ]
    assert natural_key("A 007") < natural_key("A 8")
    assert sorted(["b", "a"], key=natural_key) == ["a", "b"]


def test_the_district_picker_of_a_public_page_is_in_natural_order(demo_city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(demo_city))
    app = run_public_page("public/overview.py")
    assert list(app.selectbox(key="district").options) == DEMO_DISTRICTS
    app = run_public_page("public/districts.py")
    assert list(app.selectbox(key="district").options) == DEMO_DISTRICTS


def test_the_district_picker_of_a_staff_page_is_in_natural_order(demo_city, monkeypatch):
    app = open_scorecards(demo_city, monkeypatch)
    assert not app.exception
    assert list(app.selectbox(key="district").options) == DEMO_DISTRICTS
