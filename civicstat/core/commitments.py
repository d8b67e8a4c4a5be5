"""Commitments made at a CitiStat meeting, and how the published data judges them: the one home of
what a commitment is, which figures it may be about, and its status (on track, at risk, met,
missed). No Streamlit and no database here: the store is civicstat.commitments, and the caller
passes the query function (the web data layer, or a snapshot connection in scripts).

The rules (the methodology page and the README say the same, from METHOD_NOTE):

- A commitment is about one figure of the department scorecard (METRICS), for one department,
  optionally narrowed to a district, a request type and a channel (its scope), measured over a
  window of `window_days` whole days (30 by default) ending with a day, like the scorecard's
  period; open and overdue requests are counted at the end of that window.
- The figure *now* is measured over the window ending with the data's as-of day (the as-of time,
  not the wall clock, so the same data always gives the same status).
- Each figure has a direction: at least the target (on-time rate, score) or at most the target
  (days to close, requests, open, overdue). A figure meets its target when it is on the right
  side of it or equal to it (raw values, not rounded).
- While the due date is not yet covered by the data (the as-of day is the due date or earlier):
  **on track** when the figure now meets the target, **at risk** when it does not.
- Once the data covers the whole due date (the as-of day is after it), the figure is measured
  over the window ending with the due date: **met** when it meets the target, **missed** when it
  does not. A later publish that adds late records for those days can still change it.
- No figure (no request of the scope in the window was closed or came due): **no figure** until
  the due date, **missed** after it: a commitment cannot be met by having nothing to measure.
- A commitment closed by a person (with a reason) is **closed**, whatever the data says.
- Its trend is the figure now minus the figure when it was made (the baseline, measured the same
  way over the window ending with the then as-of day, and kept with it), called better or worse
  by the figure's direction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from civicstat.core import figures
from civicstat.core.scorecard import score_frame
from civicstat.core.values import missing

DEFAULT_WINDOW_DAYS = 30
WINDOW_CHOICES = (7, 30, 90)
SCOPE_DIMENSIONS = ("district", "request_type", "channel")


@dataclass(frozen=True)
class Metric:
    label: str
    kind: str  # rate, days, count or score: how it is written
    at_least: bool  # True: the figure should be at least the target; False: at most


METRICS: dict[str, Metric] = {  # a scorecard column -> how a commitment reads it
    "on_time_rate": Metric("On-time rate", "rate", True),
    "median_days_to_close": Metric("Median days to close", "days", False),
    "p90_days_to_close": Metric("90th percentile days to close", "days", False),
    "count_requests": Metric("Requests received", "count", False),
    "count_open": Metric("Open requests (end of window)", "count", False),
    "count_overdue": Metric("Overdue requests (end of window)", "count", False),
    "score": Metric("Score against target", "score", True),
}

STATUSES = ("on_track", "at_risk", "met", "missed", "no_figure", "closed")
STATUS_LABELS = {
    "on_track": "● On track",
    "at_risk": "◐ At risk",
    "met": "✔ Met",
    "missed": "✖ Missed",
    "no_figure": "– No figure yet",
    "closed": "⊘ Closed",
}


@dataclass(frozen=True)
class Commitment:
    """One commitment as stored (civicstat.commitments.store) and as judged here."""

    department: str
    metric: str
    target: float  # a rate as a fraction (0.85), days, a count or a score
    due_date: dt.date
    owner: str = ""
    note: str = ""
    district: str | None = None
    request_type: str | None = None
    channel: str | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    id: int | None = None
    made_at: dt.datetime | None = None
    made_by: str | None = None
    baseline: float | None = None  # the figure when it was made
    baseline_as_of: dt.datetime | None = None
    closed: bool = False
    close_reason: str | None = None
    revision: int = 0

    def __post_init__(self) -> None:
        problem = check(self)
        if problem:
            raise ValueError(problem)

    @property
    def scope(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in SCOPE_DIMENSIONS}

    def describe(self) -> str:
        """In words: 'Streets · District 4 · Pothole: on-time rate at least 85% by 31 Mar 2025'."""
        metric = METRICS[self.metric]
        where = " · ".join([self.department, *[v for v in self.scope.values() if v]])
        side = "at least" if metric.at_least else "at most"
        return (f"{where}: {metric.label.lower()} {side} {write(self.metric, self.target)} "
                f"by {self.due_date:%d %b %Y}")


EDITABLE = ("department", "district", "request_type", "channel", "metric", "target", "due_date",
            "window_days", "owner", "note")


def check(c: Commitment) -> str | None:
    """Why this commitment cannot be recorded, or None."""
    if not str(c.department or "").strip():
        return "a commitment needs a department"
    if c.metric not in METRICS:
        return f"unknown figure {c.metric!r} (one of {', '.join(METRICS)})"
    if c.target is None or not math.isfinite(float(c.target)) or float(c.target) < 0:
        return "the target must be a number, zero or more"
    if METRICS[c.metric].kind == "rate" and float(c.target) > 1:
        return "a rate's target is a fraction from 0 to 1 (0.85 for 85%)"
    if not isinstance(c.due_date, dt.date):
        return "the due date must be a date"
    if int(c.window_days) < 1 or int(c.window_days) > 366:
        return "the window is 1 to 366 days"
    return None


def write(metric: str, value: object) -> str:
    """A figure of a commitment as text ("–" when there is none)."""
    if missing(value):
        return "–"
    kind = METRICS[metric].kind
    if kind == "score":
        return f"{float(value):.2f}"
    if kind == "count":
        return f"{round(float(value)):,}"
    text = figures.WRITERS[kind](value)
    return _with_unit(text) if kind == "days" else text


def _with_unit(text: str) -> str:
    """A duration as core.figures writes it, with its unit ('1.2' -> '1.2 days'; '5 hours' kept)."""
    return text + " days" if text[-1:].isdigit() else text


def write_change(metric: str, change: object) -> str:
    if missing(change):
        return "–"
    kind = METRICS[metric].kind
    if kind == "rate":
        return f"{float(change) * 100:+.1f} pts"
    if kind == "days":
        return _with_unit(figures.day_change(float(change)))
    if kind == "score":
        return f"{float(change):+.2f}"
    return f"{round(float(change)):+,}"


def meets(metric: str, value: object, target: float) -> bool | None:
    """Whether `value` is on the target's side (None without a value)."""
    if missing(value):
        return None
    value = float(value)
    if math.isinf(value):
        value = math.inf
    return value >= target if METRICS[metric].at_least else value <= target


def window(end_day: dt.date, days: int) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(start, end, prev_start) of the window of `days` whole days ending with `end_day`."""
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time())
    start = end - dt.timedelta(days=days)
    return start, end, start - dt.timedelta(days=days)


Query = Callable[..., pd.DataFrame]


def measure(c: Commitment, end_day: dt.date, as_of: dt.datetime, query: Query,
            goals: dict[str, dict[str, float]]) -> float | None:
    """The commitment's figure over its window ending with `end_day` (None when there is none):
    the department's row of the scorecard query (internal), scored with the city's goals."""
    start, end, prev_start = window(end_day, int(c.window_days))
    frame = query("scorecard", level="department", start=start, end=end, prev_start=prev_start,
                  as_of=as_of, department=c.department, category=None, **c.scope)
    rows = frame[(~frame["is_total"].astype(bool)) & (frame["group_key"] == c.department)]
    if rows.empty:
        return 0.0 if c.metric in ("count_requests", "count_open", "count_overdue") else None
    row = score_frame(rows.reset_index(drop=True), "department", goals).iloc[0]
    value = row[c.metric]
    return None if missing(value) else float(value)


@dataclass(frozen=True)
class Judgement:
    """A commitment's status under one published snapshot."""

    commitment: Commitment
    status: str
    figure_now: float | None  # over the window ending with the as-of day
    figure_at_due: float | None  # over the window ending with the due date, once covered
    as_of: dt.datetime
    trend: float | None = None  # figure now − baseline
    trend_word: str = ""  # better, worse, unchanged, or "" without both figures
    days_left: int = 0  # days from the as-of day to the due date (negative once past)
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def judged_figure(self) -> float | None:
        """The figure the status rests on: at the due date once it is covered, else now."""
        return self.figure_at_due if self.status in ("met", "missed") else self.figure_now


def due_covered(c: Commitment, as_of: dt.datetime) -> bool:
    """Whether the data covers the whole due date (its as-of day is after it)."""
    return as_of.date() > c.due_date


def status_of(c: Commitment, as_of: dt.datetime, figure_now: float | None,
              figure_at_due: float | None) -> str:
    """The status rule (module docstring), from the figures already measured."""
    if c.closed:
        return "closed"
    if due_covered(c, as_of):
        return "met" if meets(c.metric, figure_at_due, float(c.target)) else "missed"
    hit = meets(c.metric, figure_now, float(c.target))
    if hit is None:
        return "no_figure"
    return "on_track" if hit else "at_risk"


def trend_of(c: Commitment, figure_now: float | None) -> tuple[float | None, str]:
    if missing(c.baseline) or missing(figure_now):
        return None, ""
    change = float(figure_now) - float(c.baseline)
    if not math.isfinite(change):
        return None, ""
    if abs(change) < 1e-9:
        return 0.0, "unchanged"
    better = change > 0 if METRICS[c.metric].at_least else change < 0
    return change, "better" if better else "worse"


def judge(c: Commitment, as_of: object, query: Query,
          goals: dict[str, dict[str, float]]) -> Judgement:
    """The commitment's status, its figure now (and at the due date once covered) and its trend
    under the snapshot whose as-of time is `as_of`; `query(name, **params)` runs an internal
    read query on it."""
    as_of = pd.Timestamp(as_of).to_pydatetime()
    now = measure(c, as_of.date(), as_of, query, goals)
    at_due = measure(c, c.due_date, as_of, query, goals) if due_covered(c, as_of) else None
    trend, word = trend_of(c, now)
    return Judgement(c, status_of(c, as_of, now, at_due), now, at_due, as_of, trend, word,
                     (c.due_date - as_of.date()).days)


def with_baseline(c: Commitment, as_of: object, query: Query,
                  goals: dict[str, dict[str, float]]) -> Commitment:
    """The commitment with its baseline: its figure under the snapshot it is made against."""
    as_of = pd.Timestamp(as_of).to_pydatetime()
    return replace(c, baseline=measure(c, as_of.date(), as_of, query, goals), baseline_as_of=as_of)


def judgement_rows(judgements: list[Judgement]) -> pd.DataFrame:
    """One row per judged commitment, as the staff page, the scorecard and the packet list them."""
    rows = []
    for j in judgements:
        c = j.commitment
        rows.append({
            "id": c.id, "status": j.status, "Status": j.label, "Department": c.department,
            "District": c.district or "all", "Request type": c.request_type or "all",
            "Channel": c.channel or "all", "Figure": METRICS[c.metric].label,
            "Target": ("≥ " if METRICS[c.metric].at_least else "≤ ") + write(c.metric, c.target),
            "Due": c.due_date.isoformat(), "Now": write(c.metric, j.figure_now),
            "At due date": write(c.metric, j.figure_at_due),
            "When made": write(c.metric, c.baseline),
            "Trend": (f"{write_change(c.metric, j.trend)} ({j.trend_word})" if j.trend_word else "–"),
            "Owner": c.owner, "Note": c.note,
        })
    return pd.DataFrame(rows, columns=[
        "id", "status", "Status", "Department", "District", "Request type", "Channel", "Figure",
        "Target", "Due", "Now", "At due date", "When made", "Trend", "Owner", "Note",
    ])


def row_summary(judgements: list[Judgement]) -> str:
    """A scorecard cell: how many commitments and how they stand ('2: 1 at risk, 1 on track')."""
    if not judgements:
        return ""
    counts: dict[str, int] = {}
    for j in judgements:
        counts[j.status] = counts.get(j.status, 0) + 1
    parts = [f"{counts[s]} {STATUS_LABELS[s].split(' ', 1)[1].lower()}" for s in STATUSES if s in counts]
    return f"{len(judgements)}: " + ", ".join(parts)


METHOD_NOTE = f"""
**Commitments.** A commitment is about one figure of the department scorecard, for one department,
optionally narrowed to a district, a request type and a channel, measured over a window of whole
days ({DEFAULT_WINDOW_DAYS} by default) ending with a day; open and overdue requests are counted
at the end of the window. Its figure *now* is measured over the window ending with the data's
as-of day. On-time rate and score should be at least the target; days to close and numbers of
requests at most the target. Until the data covers the due date: **on track** when the figure now
meets the target, **at risk** when it does not, **no figure** when there is nothing to measure.
Once the data covers the whole due date, the figure over the window ending with the due date
decides: **met** when it meets the target, **missed** when it does not or there is nothing to
measure. Late records for those days, loaded later, can still change it. The trend is the figure
now against the figure when the commitment was made. A commitment closed by a person, with a
reason, is **closed**; every change is kept with who made it and when.
"""
