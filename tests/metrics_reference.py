"""An independent computation of the Overview figures in pandas, straight from GUIDE.md.

Deliberately written without the SQL: if the queries and this disagree, one of them is wrong.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def load(path) -> pd.DataFrame:
    from civicstat.snapshots import connect_snapshot  # the app's configuration: one per file

    with connect_snapshot(path) as con:
        return con.execute("select * from requests").df()


def select(frame: pd.DataFrame, **dimensions: str | None) -> pd.DataFrame:
    """Duplicates out, then the dimension filters."""
    keep = frame["closure"].fillna("") != "duplicate"
    for column, value in dimensions.items():
        if value is not None:
            keep &= frame[column] == value
    return frame[keep]


def days_to_close(frame: pd.DataFrame) -> pd.Series:
    closed = frame[(frame["status"] == "closed") & frame["closed_at"].notna()]
    days = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    return days[days >= 0]


def figures(frame, start: dt.datetime, end: dt.datetime, as_of: dt.datetime) -> dict:
    """Requests, median/p90 days to close, on-time rate, open at `end` for [start, end)."""
    created = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    durations = days_to_close(created)
    with_due = created[created["due_at"].notna()]
    is_closed = (with_due["status"] == "closed") & with_due["closed_at"].notna()
    on_time = is_closed & (with_due["closed_at"] <= with_due["due_at"])
    eligible = is_closed | (with_due["due_at"] < as_of)
    closed_by_end = (frame["status"] == "closed") & (
        frame["closed_at"].isna() | (frame["closed_at"] < end)
    )
    open_at_end = (frame["created_at"] < end) & ~closed_by_end
    return {
        "count_requests": len(created),
        "median_days_to_close": durations.median() if len(durations) else None,
        "p90_days_to_close": durations.quantile(0.9) if len(durations) else None,
        "on_time_rate": on_time.sum() / eligible.sum() if eligible.sum() else None,
        "count_open_at_end": int(open_at_end.sum()),
    }
