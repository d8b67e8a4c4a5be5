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


def district_brief(
    frame: pd.DataFrame, district: str, start: dt.datetime, end: dt.datetime,
    prev_start: dt.datetime, as_of: dt.datetime, population: int | None,
    city_population: int | None,
) -> dict:
    """The /districts figures for one district, from the definitions: the district's figures for
    the period and the one before, the city's for the period, per-1,000 rates, and every request
    type's requests (this and the previous period), on-time rate and median days to close."""
    mine, city = select(frame, district=district), select(frame)
    result = {
        "district": figures(mine, start, end, as_of),
        "previous": figures(mine, prev_start, start, as_of),
        "city": figures(city, start, end, as_of),
    }
    if population:
        result["per_1000"] = 1000 * result["district"]["count_requests"] / population
        result["per_1000_city"] = 1000 * result["city"]["count_requests"] / city_population
    types = {}
    for rtype, rows in mine.groupby("request_type"):
        now = figures(rows, start, end, as_of)
        before = figures(rows, prev_start, start, as_of)
        types[rtype] = {**now, "count_requests_previous": before["count_requests"]}
    result["types"] = types
    return result


def overdue_at(frame: pd.DataFrame, moment: dt.datetime) -> int:
    """Requests open at `moment` and past their due date then."""
    closed_by = (frame["status"] == "closed") & (
        frame["closed_at"].isna() | (frame["closed_at"] < moment)
    )
    is_open = (frame["created_at"] < moment) & ~closed_by
    return int((is_open & frame["due_at"].notna() & (frame["due_at"] < moment)).sum())


def scorecard_rows(
    frame: pd.DataFrame, targets: dict[str, float], level: str, start: dt.datetime,
    end: dt.datetime, prev_start: dt.datetime, as_of: dt.datetime, **dimensions: str | None,
) -> dict[str, dict]:
    """The staff scorecard's figures per department (level "department") or request type, from
    the definitions: this period and the one before, open and overdue at the end of each, and
    the median of the type targets (hours, `targets`) of the requests created in the period."""
    scoped = select(frame, **dimensions)
    rows = {}
    for key, group in scoped.groupby(scoped[level].fillna("(not set)")):
        now, before = figures(group, start, end, as_of), figures(group, prev_start, start, as_of)
        created = group[(group["created_at"] >= start) & (group["created_at"] < end)]
        target_days = created["request_type"].map(targets).astype("float64").dropna() / 24
        rows[key] = {
            **now,
            "prev_count_requests": before["count_requests"],
            "prev_median_days_to_close": before["median_days_to_close"],
            "prev_on_time_rate": before["on_time_rate"],
            "prev_count_open": before["count_open_at_end"],
            "count_overdue": overdue_at(group, min(end, as_of)),
            "prev_count_overdue": overdue_at(group, start),
            "median_target_days": target_days.median() if len(target_days) else None,
        }
    return rows


def weekly_opened_closed(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Opened / closed per 7-day week counted back from `end` (closed: the day the request
    stopped being open, never before the day it was opened)."""
    def weeks_back(moment: pd.Series) -> pd.Series:
        return ((pd.Timestamp(end) - pd.Timedelta(days=1)).normalize()
                - moment.dt.normalize()).dt.days // 7

    opened = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    closed = frame[frame["status"] == "closed"].copy()
    closed["stopped"] = closed["closed_at"].fillna(closed["created_at"])
    closed["stopped"] = closed[["stopped", "created_at"]].max(axis=1)
    closed = closed[(closed["stopped"] >= start) & (closed["stopped"] < end)]
    return pd.DataFrame({
        "count_opened": weeks_back(opened["created_at"]).value_counts(),
        "count_closed": weeks_back(closed["stopped"]).value_counts(),
    }).fillna(0).astype(int).sort_index()


def district_figures(frame, start: dt.datetime, end: dt.datetime, as_of: dt.datetime) -> dict:
    """{district: figures(...)} for every district in the frame."""
    return {
        district: figures(rows, start, end, as_of)
        for district, rows in frame[frame["district"].notna()].groupby("district")
    }
