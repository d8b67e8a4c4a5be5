"""How figures are written for the public, in one place: counts with small ones suppressed
("fewer than 10"), rates, days, changes, and tables of them. Used by the public pages, the map
tooltips and the PDF brief, so a figure reads the same everywhere. No Streamlit here.
"""

from __future__ import annotations

import math

import pandas as pd

from civicstat.core.privacy import suppress_small

TOO_FEW = "too few"  # a rate or median over fewer than k requests is not shown


def missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def is_small(count: object, k: int) -> bool:
    """True for a count that must be suppressed: 0 < count < k."""
    return not missing(count) and 0 < int(count) < k


def count(value: object, k: int) -> str:
    """A count as shown publicly: '1,234', '0' or 'fewer than k'."""
    return "no data" if missing(value) else suppress_small(int(value), k)


def rate(value: object, basis: object = None, k: int = 0) -> str:
    """A share as a whole percentage; TOO_FEW when it rests on fewer than k requests."""
    if is_small(basis, k):
        return TOO_FEW
    return "no data" if missing(value) else f"{float(value):.0%}"


def day_count(value: float) -> str:
    """A (non-negative) number of days as people read it: one decimal ('1.2'), or two under a tenth of a day
    ('0.03', about 45 minutes), so a city that closes requests within the hour does not read
    '0.0'; 'under 0.01' below that (about a quarter of an hour)."""
    if value == 0 or value >= 0.095:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.0095 else "under 0.01"


def day_change(difference: float, decimals: int | None = None) -> str:
    """A change in days with its sign: '+0.3'; by default two decimals when it is under a tenth
    of a day ('-0.04'), as day_count writes small numbers of days."""
    if decimals is None:
        decimals = 1 if abs(difference) >= 0.095 else 2
    return f"{difference:+.{decimals}f}"


def days(value: object, basis: object = None, k: int = 0, unit: bool = False) -> str:
    """Days as day_count gives them ('1.2', or '1.2 days' with unit); TOO_FEW on fewer than k
    requests."""
    if is_small(basis, k):
        return TOO_FEW
    if missing(value):
        return "no data"
    return day_count(float(value)) + (" days" if unit else "")


def per_thousand(value: object) -> str:
    return "no data" if missing(value) else f"{float(value):,.1f}"


def change(current: object, previous: object, kind: str) -> str | None:
    """The change against the previous period in the unit people read it in, or None."""
    if missing(current) or missing(previous):
        return None
    current, previous = float(current), float(previous)
    if kind == "count":
        return None if previous == 0 else f"{(current - previous) / previous:+.1%}"
    if kind == "rate":
        return f"{(current - previous) * 100:+.1f} pts"
    # to the precision the two figures are shown at (day_count): one decimal, or two if either
    # is under a tenth of a day
    small = min(abs(current), abs(previous)) < 0.095
    return day_change(current - previous, decimals=2 if small else 1) + " days"


def format_value(value: object, kind: str, k: int, basis: object = None) -> str:
    """One value of a given kind: count, rate, days, per_thousand, date, text."""
    if kind == "count":
        return count(value, k)
    if kind == "rate":
        return rate(value, basis, k)
    if kind == "days":
        return days(value, basis, k)
    if kind == "per_thousand":
        return TOO_FEW if is_small(basis, k) else per_thousand(value)
    if kind == "date":
        return "" if missing(value) else f"{pd.Timestamp(value):%d %b %Y}"
    return "" if missing(value) else str(value)


def display_table(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    k: int,
    basis: str | None = "count_requests",
) -> pd.DataFrame:
    """A table of strings for people: {column: (label, kind)} in that order, counts below k
    suppressed, rates and medians resting on fewer than k requests (the `basis` column) hidden."""
    out = {}
    bases = frame[basis] if basis and basis in frame else pd.Series(None, index=frame.index)
    for column, (label, kind) in columns.items():
        out[label] = [
            format_value(value, kind, k, base)
            for value, base in zip(frame[column], bases, strict=True)
        ]
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def signed_percent(current: float, previous: float) -> str:
    """'up 12%' / 'down 5%' / 'unchanged'."""
    if previous == 0:
        return "new this period" if current else "unchanged"
    ratio = (current - previous) / previous
    if math.isclose(ratio, 0, abs_tol=0.005):
        return "unchanged"
    return f"{'up' if ratio > 0 else 'down'} {abs(ratio):.0%}"


def on_time_sentence(name: str, on_time: int, eligible: int, k: int) -> str:
    """'Housing closed 92% of its requests on time (1,234 of 1,341 that were due).'"""
    if eligible == 0:
        return f"{name} had no requests due in this period."
    if is_small(eligible, k):
        return f"{name} had {count(eligible, k)} requests due: too few to give a rate."
    share = on_time / eligible
    in_ten = round(share * 10)
    return (
        f"{name} closed {share:.0%} of its requests on time, about {in_ten} in every 10 "
        f"({count(on_time, k)} of {count(eligible, k)} that were due)."
    )


def change_sentence(name: str, current: int, previous: int, k: int) -> str:
    """'Pothole: 312 requests, up 45% from 215.'"""
    trend = signed_percent(current, previous)
    if trend == "new this period":
        return f"{name}: {count(current, k)} requests, none in the previous period."
    if is_small(current, k) or is_small(previous, k):  # a percentage would reveal the count
        direction = "up" if current > previous else "down"
        return f"{name}: {count(current, k)} requests, {direction} from {count(previous, k)}."
    return f"{name}: {count(current, k)} requests, {trend} from {count(previous, k)}."
