"""The meeting packet of one department (staff): its scorecard row and request types this period and
the previous one, the types off target, its overdue requests by age, and its commitments with their
status. Built once here from internal read queries (`query(name, **params)`) and drawn as a PDF by
civicstat.exports.packet_pdf; no Streamlit and no database here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from civicstat.core import commitments as rules
from civicstat.core.commitments import Commitment, Judgement
from civicstat.core.filters import Filters
from civicstat.core.scorecard import score_frame

# Age bands of the overdue requests: whole days since created, the backlog's bands
# (queries/internal/backlog_aging.sql).
AGE_BANDS = (("0–7 days", 0, 7), ("8–30 days", 8, 30), ("31–90 days", 31, 90),
             ("over 90 days", 91, None))
OLDEST_SHOWN = 15
OVERDUE_FETCHED = 100_000  # counted into bands; more than any department has overdue at once


@dataclass(frozen=True)
class DepartmentPacket:
    city_name: str
    department: str
    period_label: str
    period_days: int
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    row: pd.Series  # the department's scored scorecard row (current and prev_ figures)
    types: pd.DataFrame  # its request types, scored (score_frame, level request_type)
    off_target: pd.DataFrame  # the types whose status is red, lowest score first
    overdue_bands: tuple[tuple[str, int], ...]  # (band, overdue requests open now of that age)
    count_overdue: int
    oldest_overdue: pd.DataFrame  # the most overdue requests (overdue_requests.sql rows)
    judgements: tuple[Judgement, ...]

    @property
    def title(self) -> str:
        return f"{self.department}: meeting packet"


def overdue_bands(overdue: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    ages = overdue["age_days"] if len(overdue) else pd.Series([], dtype=float)
    return tuple(
        (label, int(((ages >= low) & (ages <= high if high is not None else True)).sum()))
        for label, low, high in AGE_BANDS
    )


def build_packet(
    filters: Filters, department: str, info: dict, query: Callable[..., pd.DataFrame],
    goals: dict[str, dict[str, float]], commitments: list[Commitment],
) -> DepartmentPacket:
    """Every figure of `department`'s packet for the filters' period (its other dimensions
    ignored), against the previous period of the same length."""
    times = {"start": filters.period.start, "end": filters.period.end,
             "prev_start": filters.period.prev_start, "as_of": filters.as_of}
    nothing = {"district": None, "category": None, "request_type": None, "channel": None}
    departments = score_frame(
        query("scorecard", level="department", **times, department=department, **nothing),
        "department", goals)
    mine = departments[(~departments["is_total"].astype(bool))
                       & (departments["group_key"] == department)]
    if mine.empty:
        raise ValueError(f"no requests of the department {department!r} in this period")
    types = score_frame(
        query("scorecard", level="request_type", **times, department=department, **nothing),
        "request_type", goals)
    types = types[~types["is_total"].astype(bool)].reset_index(drop=True)
    off = types[types["score_status"] == "red"].sort_values(["score", "group_key"])
    overdue = query("overdue_requests", as_of=filters.as_of, department=department,
                    limit=OVERDUE_FETCHED, **nothing)
    total_overdue = int(overdue["count_overdue"].iloc[0]) if len(overdue) else 0
    judged = tuple(rules.judge(c, info["as_of"], query, goals) for c in commitments)
    return DepartmentPacket(
        city_name=str(info["city_name"]), department=department,
        period_label=filters.period.label, period_days=filters.period.days,
        start=filters.period.start, end=filters.period.end,
        as_of=pd.Timestamp(info["as_of"]).to_pydatetime(), row=mine.iloc[0], types=types,
        off_target=off.reset_index(drop=True), overdue_bands=overdue_bands(overdue),
        count_overdue=total_overdue,
        oldest_overdue=overdue.sort_values("days_late", ascending=False).head(OLDEST_SHOWN),
        judgements=judged,
    )


# (column, label, kind) of the department's headline figures, this period beside the previous one
HEADLINE = (
    ("count_requests", "Requests received", "count"),
    ("on_time_rate", "On-time rate", "rate"),
    ("median_days_to_close", "Median days to close", "days"),
    ("p90_days_to_close", "90th percentile days to close", "days"),
    ("count_open", "Open at end of period", "count"),
    ("count_overdue", "Overdue at end of period", "count"),
    ("score", "Score against target", "score"),
)


def headline(packet: DepartmentPacket) -> list[tuple[str, str, str]]:
    """(label, this period, previous period) of the department's headline figures."""
    row = packet.row
    return [(label, write(kind, row[column]), write(kind, row[f"prev_{column}"]))
            for column, label, kind in HEADLINE]


def write(kind: str, value: object) -> str:
    """A staff figure as text (internal: no k rule; '–' for none)."""
    metric = {"count": "count_requests", "rate": "on_time_rate", "days": "median_days_to_close",
              "score": "score"}[kind]
    return rules.write(metric, value)
