"""Days as people read them: no '0.0' for a city that closes requests within the hour."""

from __future__ import annotations

import pytest

from civicstat.core.explorer import typical_comparison
from civicstat.core.figures import change, day_change, day_count, figure


@pytest.mark.parametrize(("value", "text"), [
    (0, "0.0"), (0.004, "under 0.01"), (0.0095, "0.01"), (0.031, "0.03"), (0.094, "0.09"),
    (0.095, "0.1"), (1.25, "1.2"), (12.0, "12.0"),
])
def test_day_count(value, text):
    assert day_count(value) == text


def test_days_and_their_change_use_it():
    assert figure("median_days_to_close", 0.031, 12, 10, unit=True) == "0.03 days"
    assert figure("median_days_to_close", 0.031, 3, 10) == "too few"
    assert change(0.03, 0.1, "days") == "-0.07 days"
    assert change(2.0, 1.0, "days") == "+1.0 days"
    assert change(0.849, 0.852, "days") == "-0.0 days"  # shown as 0.8 and 0.9: one decimal
    assert day_change(-0.004) == "-0.00" and day_change(0.25) == "+0.2"
    assert typical_comparison(0.02, False, 0.031, 0.5).startswith("Closed in 0.02 days")
