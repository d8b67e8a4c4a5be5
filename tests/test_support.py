"""Helpers shared by the AppTest modules."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


def metric_values(app: AppTest) -> dict[str, str]:
    """{label: value} of every st.metric on the page."""
    return {m.label: m.value for m in app.metric}
