"""AppTest of the staff Scorecards page where rows have no status: a row with no target, or too
few requests to judge, is labelled so (it used to raise KeyError: nan), and a city with no
targets at all is told how to add them (it used to get an empty chart and a table of "None")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from civicstat.core import scorecard

from citykit import CENTRES, FrameAdapter, make_city, placeholder_file
from test_support import APP

ADMIN = {"is_logged_in": True, "email": "admin@city.example", "email_verified": True, "sub": "a-1",
         "iat": 1}
SECRETS = {"civicstat": {"idle_timeout_minutes": 30, "roles": {"admin@city.example": "admin"}}}
LABELS = set(scorecard.STATUS_LABELS.values())


pytestmark = pytest.mark.usefixtures("release_snapshots")


def open_scorecards(city: Path, monkeypatch, **query: str) -> AppTest:
    monkeypatch.setenv("CIVICSTAT_CITY", str(city))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.secrets = SECRETS
    app.user = dict(ADMIN)
    app.switch_page("views/internal/scorecards.py")
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def _records(now: dt.datetime) -> list[dict]:
    """Pothole (Streets): closed within its target; Noise (Parks): one request, still open and
    not yet due; Graffiti (Parks): closed, with no target of its own."""
    def at(days_ago: float) -> str:
        return (now - dt.timedelta(days=days_ago)).isoformat(sep=" ")

    lat, lon = CENTRES["2"]
    base = {"category": "General", "channel": "web", "lat": lat, "lon": lon}
    records = [
        {**base, "request_id": f"P-{i}", "department": "Streets", "request_type": "Pothole",
         "created_at": at(20 + i), "status": "closed", "closed_at": at(19.5 + i)}
        for i in range(6)
    ]
    records.append({**base, "request_id": "N-1", "department": "Parks", "request_type": "Noise",
                    "created_at": at(0.2), "status": "open"})
    records += [
        {**base, "request_id": f"G-{i}", "department": "Works", "request_type": "Graffiti",
         "created_at": at(10 + i), "status": "closed", "closed_at": at(8 + i)}
        for i in range(3)
    ]
    return records


def _small_city(root: Path, targets: bool) -> Path:
    from civicstat.ingest.pipeline import ingest_files

    city = make_city(root, target_hours={"Pothole": 72, "Noise": 24})
    toml = city.root / "city.toml"
    text = toml.read_text(encoding="utf-8")
    if targets:  # Graffiti has no target: no default either
        text = text.replace("default_hours = 48\n", "")
    else:
        text = text.split("[targets]")[0]
    toml.write_text(text, encoding="utf-8")
    from civicstat.core.city import load_city

    city = load_city(city.root)
    now = dt.datetime.now().replace(microsecond=0)
    ingest_files(city, [placeholder_file(root, "requests.csv")], FrameAdapter(_records(now)))
    return city.root


@pytest.fixture(scope="module")
def city_with_some_targets(tmp_path_factory) -> Path:
    return _small_city(tmp_path_factory.mktemp("some_targets"), targets=True)


@pytest.fixture(scope="module")
def city_without_targets(tmp_path_factory) -> Path:
    return _small_city(tmp_path_factory.mktemp("no_targets"), targets=False)


def statuses(app: AppTest) -> dict[str, str]:
    table = app.dataframe[0].value
    return dict(zip(table.iloc[:, 0], table["Status"], strict=True))


def test_rows_without_a_status_are_labelled(city_with_some_targets, monkeypatch):
    app = open_scorecards(city_with_some_targets, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    got = statuses(app)
    assert got["Streets"] == scorecard.STATUS_LABELS["green"]
    assert got["Works"] == scorecard.STATUS_LABELS["no_target"]
    assert got["Parks"] == scorecard.STATUS_LABELS["too_few"]
    assert app.get("plotly_chart")  # some rows are scored: the chart is drawn


def test_a_city_without_targets_is_told_how_to_add_them(city_without_targets, monkeypatch):
    app = open_scorecards(city_without_targets, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.get("plotly_chart")  # no empty chart
    notes = [e.value for e in app.info]
    assert any("[targets]" in note and "city.toml" in note for note in notes), notes
    assert all(not isinstance(s, str) or s != "None" for s in statuses(app).values())
    assert set(statuses(app).values()) <= LABELS


def test_demo_city_filter_that_leaves_rows_unjudged(demo_city, monkeypatch):
    """The issue's case: the demo, last 30 days, channel other, District 12."""
    app = open_scorecards(demo_city, monkeypatch, period="30d", channel="other",
                          district="District 12")
    assert not app.exception, [e.value for e in app.exception]
    got = statuses(app)
    # a status is one of the labels, with the metric that sets it and a few-requests mark
    # after it ("○ Off target: on time ⚠ 1")
    assert all(any(value.startswith(label) for label in LABELS) for value in got.values()), got
    assert scorecard.STATUS_LABELS["too_few"] in got.values()


def test_status_label_never_raises():
    for value in (None, float("nan"), pd.NA, "green", "no_target", "too_few", "something else"):
        assert scorecard.status_label(value) in LABELS
