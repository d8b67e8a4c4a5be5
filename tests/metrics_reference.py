"""An independent computation of the Overview figures in pandas, straight from GUIDE.md.

Deliberately written without the SQL: if the queries and this disagree, one of them is wrong.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def load(path) -> pd.DataFrame:
    from civicstat.serve.snapshots import connect_snapshot  # the app's configuration: one per file

    with connect_snapshot(path) as con:
        return con.execute("select * from requests").df()


def select(frame: pd.DataFrame, **dimensions: str | None) -> pd.DataFrame:
    """Duplicates (and calls that are not service requests) out, then the dimension filters."""
    keep = frame["closure"].fillna("") != "duplicate"
    if "is_information_only" in frame:
        keep &= ~frame["is_information_only"].fillna(False).astype(bool)
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


# --- the Trends, Map and Open data pages --------------------------------------------------------


def is_open_at(frame: pd.DataFrame, moment: dt.datetime) -> pd.Series:
    """Created before `moment` and not closed before it (a closed request with no closed time
    counts as closed at any moment after it was created)."""
    closed_by = (frame["status"] == "closed") & (
        frame["closed_at"].isna() | (frame["closed_at"] < moment)
    )
    return (frame["created_at"] < moment) & ~closed_by


BAND_EDGES = (0.0, 1.0, 2.0, 3.0, 7.0, 14.0, 30.0, 90.0, float("inf"))


def days_to_close_bands(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> list[int]:
    """Requests created in [start, end) and closed, counted per band of days to close
    ([0, 1), [1, 2), [2, 3), [3, 7), [7, 14), [14, 30), [30, 90), 90 and over)."""
    created = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    days = days_to_close(created)
    return [int(((days >= low) & (days < high)).sum())
            for low, high in zip(BAND_EDGES, BAND_EDGES[1:], strict=False)]


def _truncate(moment: pd.Timestamp, grain: str, end: dt.datetime) -> pd.Timestamp:
    """The start of the day, month, or week of `moment`: weeks are 7-day weeks counted back
    from `end` (the end of the period), the one definition of a week on every page."""
    day = pd.Timestamp(moment).normalize()
    if grain == "day":
        return day
    if grain == "week":
        end_day = pd.Timestamp(end).normalize()
        return end_day - pd.Timedelta(days=7 * (((end_day - day).days - 1) // 7) + 7)
    return day.replace(day=1)


def _steps(start: dt.datetime, end: dt.datetime, grain: str):
    """(step start, step end) of each day, week (counted back from `end`) or month overlapping
    [start, end)."""
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(days=7),
            "month": pd.DateOffset(months=1)}[grain]
    first = _truncate(start, grain, end)
    last = _truncate(pd.Timestamp(end) - pd.Timedelta(microseconds=1), grain, end)
    moment = first
    while moment <= last:
        yield moment, moment + step
        moment = moment + step


def backlog(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime, grain: str) -> list[tuple]:
    """(counted_at, open, open and past due) at the end of each day or week of [start, end) (the
    last one at `end`)."""
    rows = []
    for _, step_end in _steps(start, end, grain):
        moment = min(step_end, pd.Timestamp(end))
        is_open = is_open_at(frame, moment)
        overdue = is_open & frame["due_at"].notna() & (frame["due_at"] < moment)
        rows.append((moment, int(is_open.sum()), int(overdue.sum())))
    return rows


def volume(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime, grain: str) -> list[tuple]:
    """(bucket start, requests created in the bucket within [start, end), requests created 52
    weeks (weeks) or one year (months) earlier that land in the bucket within [start, end))."""
    shift = pd.DateOffset(days=364) if grain == "week" else pd.DateOffset(years=1)
    created = frame["created_at"]
    now = created[(created >= start) & (created < end)]
    shifted = created + shift
    before = shifted[(shifted >= start) & (shifted < end)]
    now_buckets = now.map(lambda t: _truncate(t, grain, end)).value_counts()
    before_buckets = before.map(lambda t: _truncate(t, grain, end)).value_counts()
    return [(bucket.date(), int(now_buckets.get(bucket, 0)), int(before_buckets.get(bucket, 0)))
            for bucket, _ in _steps(start, end, grain)]


def records_by_type(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> dict:
    """{request type: (records created in [start, end), of them with a location)}: every record,
    duplicates included."""
    rows = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    grouped = rows.groupby("request_type", dropna=False)
    return {key: (int(len(group)), int(group["lat"].notna().sum())) for key, group in grouped}


def breakdown(frame: pd.DataFrame, group_by: str, start: dt.datetime, end: dt.datetime,
              prev_start: dt.datetime, as_of: dt.datetime) -> dict:
    """{value of `group_by`: figures(...) for the period plus the previous period's requests},
    for the values with a request created in [prev_start, end) or open at `end`."""
    rows = {}
    for key, group in frame[frame[group_by].notna()].groupby(group_by):
        created = (group["created_at"] >= prev_start) & (group["created_at"] < end)
        if not created.any() and not is_open_at(group, end).any():
            continue
        now = figures(group, start, end, as_of)
        rows[key] = {**now,
                     "count_requests_previous": figures(group, prev_start, start,
                                                        as_of)["count_requests"]}
    return rows


def _round(value: float) -> float:
    """Round half away from zero (as SQL's round does; Python's round goes to even)."""
    import math

    return math.copysign(math.floor(abs(value) + 0.5), value)


def hexagon_cells(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime, cell_km: float,
                  ref_lat: float) -> dict:
    """{(q, r): (requests, median days to close)} of the requests created in [start, end) with a
    location, binned into pointy-top hexagons of circumradius cell_km on the flat projection
    x = lon · 111.320 · cos(ref_lat), y = lat · 110.574 (km), axial coordinates rounded in cube
    space (the usual rounding: the component furthest from its rounded value is recomputed)."""
    import math

    rows = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)
                 & frame["lat"].notna() & frame["lon"].notna()]
    cells: dict[tuple[int, int], list] = {}
    durations = days_to_close(rows)
    for index, lat, lon in zip(rows.index, rows["lat"], rows["lon"], strict=True):
        x = lon * 111.320 * math.cos(math.radians(ref_lat)) / cell_km
        y = lat * 110.574 / cell_km
        fq, fr = math.sqrt(3) / 3 * x - y / 3, 2 / 3 * y
        fs = -fq - fr
        q, r, s = _round(fq), _round(fr), _round(fs)
        dq, dr, ds = abs(q - fq), abs(r - fr), abs(s - fs)
        if dq > dr and dq > ds:
            q = -r - s
        elif dr > ds:
            r = -q - s
        cells.setdefault((int(q), int(r)), []).append(index)
    return {
        key: (len(members), durations.reindex(members).dropna().median()
              if durations.reindex(members).notna().any() else None)
        for key, members in cells.items()
    }
