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
