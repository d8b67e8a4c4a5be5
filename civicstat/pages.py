"""The page registry: which st.Page objects each audience gets (nothing else is registered)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


def public_pages() -> list[st.Page]:
    """Pages for everyone, anonymous visitors included."""
    return [
        st.Page(
            PAGES_DIR / "public" / "overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
            default=True,
        ),
    ]
