"""A few commitments for the demo city, as a CitiStat meeting two months before its as-of time
might have made them: targets set from Riverton's own published figures so that the demo shows
every status (met, missed, on track, at risk) and one closed with a reason.

Rebuilding the demo replaces its commitments database, as it replaces its store.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd

from civicstat.commitments.store import FILE_NAME, CommitmentStore
from civicstat.core import commitments as rules
from civicstat.core.city import City
from civicstat.core.commitments import Commitment
from civicstat.serve.runner import snapshot_queries

MEETING_DAYS_BEFORE = 60


def _plan(as_of: dt.date) -> list[tuple[str, Commitment]]:
    """(the status it is meant to show, the commitment without its target yet)."""
    def day(offset: int) -> dt.date:
        return as_of + dt.timedelta(days=offset)

    return [
        ("met", Commitment(department="Streets & Sanitation", metric="on_time_rate", target=0,
                           due_date=day(-14), request_type="Pothole", owner="Deputy Commissioner, Streets",
                           note="Pothole crews on extended shifts through the spring.")),
        ("missed", Commitment(department="Buildings", metric="median_days_to_close", target=0,
                              due_date=day(-7), owner="Chief Inspector",
                              note="Cut the inspection queue with two contract inspectors.")),
        ("on_track", Commitment(department="Parks & Recreation", metric="count_overdue", target=0,
                                due_date=day(45), district="District 4", owner="Parks Director",
                                note="Clear District 4's overdue requests before the storm season.")),
        ("at_risk", Commitment(department="Transportation", metric="on_time_rate", target=0,
                               due_date=day(30), owner="Traffic Engineer",
                               note="Signal repairs within target.")),
        ("on_track", Commitment(department="Water Management", metric="p90_days_to_close", target=0,
                                due_date=day(60), owner="Water Operations Manager")),
        ("closed", Commitment(department="Animal Services", metric="count_open", target=0,
                              due_date=day(20), owner="Animal Services Manager")),
    ]


def _target(intended: str, metric: str, figure: float) -> float:
    """A target that gives the intended status for this figure (a round number)."""
    at_least = rules.METRICS[metric].at_least
    easier = intended in ("met", "on_track", "closed")
    kind = rules.METRICS[metric].kind
    if kind == "rate":
        if easier == at_least:  # a little below (at least) or above (at most) the figure
            return max(0.0, math.floor((figure - 0.05) * 100) / 100)
        return min(1.0, max(0.5, math.ceil((figure + 0.05) * 100) / 100))
    factor = (0.8 if at_least else 1.25) if easier else (1.25 if at_least else 0.8)
    value = figure * factor
    return float(math.ceil(value) if factor > 1 else math.floor(value)) if kind == "count" else (
        round(value, 1))


def record_demo_commitments(city: City) -> list[rules.Judgement]:
    """Replace the demo city's commitments with the planned ones; their judgements back."""
    for suffix in ("", "-wal", "-shm"):
        (city.root / f"{FILE_NAME}{suffix}").unlink(missing_ok=True)
    store = CommitmentStore(city.root)
    judged = []
    with snapshot_queries(city.internal_path, "internal") as (info, query):
        as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
        meeting = as_of - dt.timedelta(days=MEETING_DAYS_BEFORE)
        for intended, planned in _plan(as_of.date()):
            end = planned.due_date if intended in ("met", "missed") else as_of.date()
            figure = rules.measure(planned, end, as_of, query, city.goals)
            if figure is None or not math.isfinite(figure):
                continue
            commitment = replace(planned, target=_target(intended, planned.metric, figure),
                                 made_at=meeting)
            baseline = rules.measure(commitment, meeting.date(), as_of, query, city.goals)
            made = store.add(replace(commitment, baseline=baseline, baseline_as_of=meeting),
                             actor="demo")
            if intended == "closed":
                made = store.close(made.id, "Merged into the city-wide backlog goal.", actor="demo")
            judged.append(rules.judge(made, as_of, query, city.goals))
    return judged
