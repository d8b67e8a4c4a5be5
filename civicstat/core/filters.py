"""Filters every page shares: the period (relative to the data's as-of time) and the dimensions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from civicstat.core.city import DistrictLabels

PERIOD_LABELS: dict[str, str] = {
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "365d": "Last 365 days",
    "fy": "This fiscal year to date",
    "custom": "Custom dates",
}
DEFAULT_PERIOD = "90d"
DIMENSIONS = ("department", "district", "category", "request_type", "channel")
DIMENSION_LABELS = {
    "department": "Department",
    "district": "District",
    "category": "Category",
    "request_type": "Request type",
    "channel": "Channel",
}

_DIGITS = re.compile(r"([0-9]+)")


def natural_key(value: object) -> tuple:
    """The order people expect of a picker's values: runs of digits compare as numbers, the rest
    without regard to case ("District 2" before "District 10", "ward 3" beside "Ward 3"); the text
    itself breaks ties, so the order is total and stable."""
    text = str(value)
    parts = _DIGITS.split(text)  # text, digits, text, digits, ..., text
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)), text


@dataclass(frozen=True)
class Period:
    """[start, end) and the period of the same length just before it, [prev_start, start)."""

    start: dt.datetime
    end: dt.datetime
    label: str

    @property
    def prev_start(self) -> dt.datetime:
        return self.start - (self.end - self.start)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _day_after(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(moment.date(), dt.time()) + dt.timedelta(days=1)


def fiscal_year_start(day: dt.date, start_month: int) -> dt.date:
    """First day of the fiscal year containing `day`."""
    year = day.year if day.month >= start_month else day.year - 1
    return dt.date(year, start_month, 1)


def resolve_period(
    key: str,
    as_of: dt.datetime,
    fiscal_start_month: int = 7,
    custom: tuple[dt.date, dt.date] | None = None,
) -> Period:
    """Turn a period choice into whole days ending with the as-of day (or custom dates)."""
    end = _day_after(as_of)
    if key in ("30d", "90d", "365d"):
        return Period(end - dt.timedelta(days=int(key[:-1])), end, PERIOD_LABELS[key])
    if key == "fy":
        start = fiscal_year_start(as_of.date(), fiscal_start_month)
        return Period(dt.datetime.combine(start, dt.time()), end, PERIOD_LABELS[key])
    if key == "custom" and custom is not None:
        first, last = sorted(custom)
        start = dt.datetime.combine(first, dt.time())
        return Period(start, dt.datetime.combine(last, dt.time()) + dt.timedelta(days=1),
                      f"{first:%d %b %Y} – {last:%d %b %Y}")
    raise ValueError(f"unknown period {key!r}")


@dataclass(frozen=True)
class Filters:
    period: Period
    as_of: dt.datetime
    dimensions: dict[str, str | None] = field(default_factory=dict)
    district_labels: DistrictLabels = field(default_factory=DistrictLabels)  # for describe

    def dimension_params(self, *, without: tuple[str, ...] = ()) -> dict[str, str | None]:
        return {d: self.dimensions.get(d) for d in DIMENSIONS if d not in without}

    def params(self, *names: str, without: tuple[str, ...] = ()) -> dict[str, object]:
        """Query parameters: the named time parameters plus every dimension not excluded."""
        times = {
            "start": self.period.start,
            "end": self.period.end,
            "prev_start": self.period.prev_start,
            "as_of": self.as_of,
        }
        return {**{n: times[n] for n in names}, **self.dimension_params(without=without)}

    def describe(self, *, period: bool = True) -> str:
        """The filters in words, for captions and printed briefs (without the period if asked)."""
        chosen = [
            f"{DIMENSION_LABELS[d]}: {self.district_labels.label(v) if d == 'district' else v}"
            for d, v in self.dimensions.items() if v
        ]
        return " · ".join([self.period.label, *chosen] if period else chosen)
