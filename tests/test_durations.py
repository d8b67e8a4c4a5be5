"""Durations as people read them: no '0.0' or '0.03 days' for a city that closes requests
within the hour (issue 13, item 8): hours or minutes under a day, the change written the same
way, and the unit always written (a column never mixes '17.2 hours' with a bare '1.3')."""

from __future__ import annotations

import pytest

from civicstat.core.explorer import typical_comparison
from civicstat.core.figures import change, day_change, duration, figure


@pytest.mark.parametrize(("value", "text"), [
    (0, "under 1 min"), (0.0003, "under 1 min"), (0.0004, "1 min"), (0.031, "45 min"),
    (1 / 24 - 0.0001, "60 min"), (1 / 24, "1.0 hours"), (0.23, "5.5 hours"), (0.999, "24.0 hours"),
    (1.0, "1.0 days"), (1.25, "1.2 days"), (12.0, "12.0 days"),
])
def test_duration(value, text):
    assert duration(value) == text


def test_durations_and_their_change_carry_their_unit():
    assert duration(2.5) == "2.5 days" and duration(0.031) == "45 min"
    assert figure("median_days_to_close", 0.031, 12, 10) == "45 min"
    assert figure("median_days_to_close", 3.0, 12, 10) == "3.0 days"
    assert figure("median_days_to_close", 0.031, 3, 10) == "too few"
    assert change(0.03, 0.1, "days") == "-1.7 hours"
    assert change(0.03, 0.035, "days") == "-7 min"
    assert change(2.0, 1.0, "days") == "+1.0 days"
    assert change(3.5, 1.0, "days") == "+2.5 days"
    assert day_change(-0.004) == "-6 min" and day_change(0.25) == "+6.0 hours"
    assert day_change(-1.25) == "-1.2 days"
    assert typical_comparison(0.02, False, 0.031, 0.5).startswith("Closed in 29 min")
    assert typical_comparison(4.0, True, 2.0, 3.0).startswith("Open for 4.0 days so far")
