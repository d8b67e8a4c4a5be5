"""How figures are written for the public, in one place: counts, rates, days, changes and
tables of them. Whether a figure is shown at all is privacy.is_shown's decision (the k rule and
each figure's basis): here a withheld figure reads "fewer than k" or "too few". Used by the public
pages, the charts' labels, the map tooltips and the PDF brief, so a figure reads the same
everywhere. No Streamlit here.
"""

from __future__ import annotations

import math

import pandas as pd

from civicstat.core import privacy
from civicstat.core.values import missing

TOO_FEW = privacy.TOO_FEW
NO_DATA = "no data"


HOURS_PER_DAY = 24
MINUTES_PER_DAY = 24 * 60


def _under_a_day(days: float, signed: bool) -> str:
    """Less than a day in hours ('5.5 hours') or, under an hour, whole minutes ('45 min')."""
    sign = "+" if signed else ""
    if abs(days) >= 1 / HOURS_PER_DAY:
        return f"{days * HOURS_PER_DAY:{sign}.1f} hours"
    minutes = round(days * MINUTES_PER_DAY)
    if not signed and minutes < 1:
        return "under 1 min"
    return f"{minutes:{sign}d} min"


def duration(value: float) -> str:
    """A (non-negative) duration given in days, as people read it, its unit always written (a
    column or tile then never mixes '17.2 hours' with a bare '1.3'): from a day up days with one
    decimal ('1.2 days'); under a day hours or minutes ('5.5 hours', '45 min', 'under 1 min'),
    so a city that closes requests within the hour does not read '0.0' or '0.03'."""
    return f"{value:.1f} days" if value >= 1 else _under_a_day(value, signed=False)


def day_change(difference: float) -> str:
    """A change of a duration given in days, signed and with its unit, written as duration
    writes durations: '+0.3 days' from a day up; under a day in hours or
    minutes ('-2.5 hours', '+15 min')."""
    if abs(difference) >= 1:
        return f"{difference:+.1f} days"
    return _under_a_day(difference, signed=True)


WRITERS = {  # a shown value of each kind of figure
    "count": lambda value: f"{int(value):,}",
    "rate": lambda value: f"{float(value):.0%}",
    "days": lambda value: duration(float(value)),
    "per_thousand": lambda value: f"{float(value):,.1f}",
}


def figure(name: str, value: object, basis: object, k: int) -> str:
    """One public figure (a privacy.FIGURES name) as text: "fewer than k" / "too few" when
    privacy withholds it, "no data" when there is none, else written for its kind ("1.2 days",
    "45 min", "62%", "1,234")."""
    if not privacy.is_shown(name, basis, k):
        return privacy.withheld_text(name, k)
    if missing(value):
        return NO_DATA
    return WRITERS[privacy.FIGURES[name].kind](value)


def _value(row: object, column: str) -> object:
    return getattr(row, column) if isinstance(row, tuple) else row[column]  # type: ignore[index]


def cell(name: str, row: object, k: int) -> str:
    """The figure `name` of a query row (its basis read from the same row) as text."""
    return figure(name, _value(row, name), privacy.basis_of(name, row), k)


def count(value: object, k: int, name: str = "count_requests") -> str:
    """A count as shown publicly: '1,234', '0' or 'fewer than k' (a count is its own basis)."""
    return figure(name, value, value, k)


def change(current: object, previous: object, kind: str) -> str | None:
    """The change against the previous period in the unit people read it in, or None."""
    if missing(current) or missing(previous):
        return None
    current, previous = float(current), float(previous)
    if kind == "count":
        return None if previous == 0 else f"{(current - previous) / previous:+.1%}"
    if kind == "rate":
        return f"{(current - previous) * 100:+.1f} pts"
    return day_change(current - previous)


def figure_change(
    name: str, current: object, previous: object, basis: object, basis_previous: object, k: int
) -> str | None:
    """The change of figure `name` against the previous period, or None: none is given unless
    both figures are shown (a change would reveal a withheld one)."""
    if not (privacy.is_shown(name, basis, k) and privacy.is_shown(name, basis_previous, k)):
        return None
    kind = privacy.FIGURES[name].kind
    return change(current, previous, "count" if kind in ("count", "per_thousand") else kind)


def table_cell(row: object, column: str, kind: str, k: int) -> str:
    """One cell of a table for people: text, a date, or a public figure (privacy.FIGURES)."""
    value = _value(row, column)
    if kind == "date":
        return "" if missing(value) else f"{pd.Timestamp(value):%d %b %Y}"
    if kind == "text":
        return "" if missing(value) else str(value)
    if privacy.FIGURES[column].kind != kind:
        raise ValueError(f"{column} is a {privacy.FIGURES[column].kind}, not a {kind}")
    return cell(column, row, k)


def display_table(frame: pd.DataFrame, columns: dict[str, tuple[str, str]], k: int) -> pd.DataFrame:
    """A table of strings for people: {column: (label, kind)} in that order, kind text, date or
    the figure's own kind (count, rate, days, per_thousand): each figure shown or withheld by
    privacy.is_shown on its own basis, read from the same row."""
    rows = list(frame.itertuples(index=False))
    out = {
        label: [table_cell(row, column, kind, k) for row in rows]
        for column, (label, kind) in columns.items()
    }
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
    """'Housing closed 92% of its requests on time (1,234 of 1,341 closed or past due).'"""
    if eligible == 0:
        return f"{name} had no requests made in this period that are closed or past due."
    if not privacy.is_shown("on_time_rate", eligible, k):
        return (f"{name} had {count(eligible, k, 'count_on_time_eligible')} requests closed or "
                "past due: too few to give a rate.")
    share = on_time / eligible
    in_ten = round(share * 10)
    return (
        f"{name} closed {share:.0%} of its requests on time, about {in_ten} in every 10 "
        f"({count(on_time, k, 'count_on_time')} of {count(eligible, k, 'count_on_time_eligible')} "
        "closed or past due)."
    )


def change_sentence(name: str, current: int, previous: int, k: int) -> str:
    """'Pothole: 312 requests, up 45% from 215.'"""
    trend = signed_percent(current, previous)
    if trend == "new this period":
        return f"{name}: {count(current, k)} requests, none in the previous period."
    if not (privacy.is_shown("count_requests", current, k)
            and privacy.is_shown("count_requests_previous", previous, k)):
        # a percentage would reveal a withheld count
        direction = "up" if current > previous else "down"
        return f"{name}: {count(current, k)} requests, {direction} from {count(previous, k)}."
    return f"{name}: {count(current, k)} requests, {trend} from {count(previous, k)}."
