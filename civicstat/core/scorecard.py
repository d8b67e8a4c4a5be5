"""Department scorecards: each row's targets, its CityScore-style score, red/amber/green, changes.

How a row's targets are set (the Scorecards page says the same):

- On-time rate: the department's goal `on_time_rate` from city.toml (`[goals."Department"]`),
  else the city default of 80%. Request-type rows use their department's goal.
- Median days to close: the department's goal `median_days` from city.toml, else the median of
  its requests' type targets (request_types.target_hours): the median it would have if every
  request closed exactly on its target. A request-type row uses its own type's target.

Each metric's score is actual ÷ target (on-time rate: higher is better) or target ÷ actual
(median days: lower is better), so 1 means exactly on target. CityScore averages its metrics;
a row's score here is the LOWEST of its metric scores, so that a fast median cannot hide a
missed on-time goal (averaged, every demo department but one came out green, Buildings at 61%
on time against a 75% goal included). 1 or more is on target (green), 0.9 up to 1 is near
(amber), below 0.9 is off target (red). A row with no score says why: "no_target" (neither an
on-time rate, for want of due dates, nor a median target to compare with) or "too_few" (it has
targets, but no request of the period was closed or came due).
"""

from __future__ import annotations

import math

import pandas as pd

from civicstat.core.values import missing

DEFAULT_ON_TIME_GOAL = 0.80
AMBER_FLOOR = 0.90
STATUS_LABELS = {
    "green": "● On target",
    "amber": "◐ Near target",
    "red": "○ Off target",
    "no_target": "– No target",
    "too_few": "– Too few to judge",
}
SCORED = ("green", "amber", "red")


def status_label(value: object) -> str:
    """The words for a status (STATUS_LABELS); a missing or unknown one reads "too few to judge",
    never an error (pandas turns a None among strings into NaN)."""
    if missing(value):
        return STATUS_LABELS["too_few"]
    return STATUS_LABELS.get(str(value), STATUS_LABELS["too_few"])


def _number(value: object) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def ratio_score(actual: object, target: object, *, lower_is_better: bool) -> float | None:
    """actual ÷ target, or target ÷ actual when lower is better (None without both)."""
    actual, target = _number(actual), _number(target)
    if actual is None or target is None or target <= 0:
        return None
    if lower_is_better:
        return math.inf if actual <= 0 else target / actual
    return actual / target


def combined_score(*scores: float | None) -> float | None:
    """The lowest of the metric scores present: a row is only as good as its weakest metric."""
    present = [s for s in scores if s is not None]
    return min(present) if present else None


def status(score: float | None) -> str | None:
    """'green', 'amber', 'red' or None (no data)."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return None
    score = round(score, 2)  # as shown: a score that reads 0.90 is amber, not red
    if score >= 1.0:
        return "green"
    return "amber" if score >= AMBER_FLOOR else "red"


def unscored_reason(row: pd.Series) -> str:
    """Why a row has no score: "no_target" when it has nothing to be judged against (no due
    dates, so no on-time rate, and no median target), else "too_few" (nothing closed or due)."""
    has_requests = _number(row["count_requests"]) or 0
    due = _number(row["count_on_time_eligible"]) or 0
    if has_requests and not due and missing(row["median_goal_days"]):
        return "no_target"
    return "too_few"


def has_targets(scored: pd.DataFrame) -> bool:
    """Whether any row of a scorecard has something to be judged against: a score, a median
    target or a request that came due. False for a city with no service targets yet."""
    rows = scored[~scored["is_total"].astype(bool)]
    return any(
        found in SCORED or not missing(goal) or (_number(due) or 0) > 0
        for found, goal, due in zip(rows["score_status"], rows["median_goal_days"],
                                     rows["count_on_time_eligible"], strict=True)
    )


GOAL_COLUMNS = ["on_time_goal", "on_time_goal_source", "median_goal_days", "prev_median_goal_days",
                "median_goal_source"]


def row_goals(row: pd.Series, level: str, goals: dict[str, dict[str, float]]) -> dict:
    """This row's on-time goal and median-days targets (current and previous period)."""
    goal = goals.get(row["department"] or "", {}) if row["department"] else {}
    on_time = goal.get("on_time_rate")
    median = goal.get("median_days") if level == "department" else None
    return {
        "on_time_goal": float(on_time) if on_time is not None else DEFAULT_ON_TIME_GOAL,
        "on_time_goal_source": "city.toml" if on_time is not None else "city default",
        "median_goal_days": float(median) if median is not None else row["median_target_days"],
        "prev_median_goal_days": (
            float(median) if median is not None else row["prev_median_target_days"]
        ),
        "median_goal_source": "city.toml" if median is not None else "type targets",
    }


def _change(current: pd.Series, previous: pd.Series, relative: bool = False) -> pd.Series:
    current, previous = current.astype("Float64"), previous.astype("Float64")
    if relative:
        return ((current - previous) / previous.where(previous != 0)).astype("Float64")
    return current - previous


def score_frame(frame: pd.DataFrame, level: str, goals: dict[str, dict[str, float]]) -> pd.DataFrame:
    """The scorecard query's rows with targets, scores, statuses and changes added."""
    if level not in ("department", "request_type"):
        raise ValueError(f"unknown scorecard level {level!r}")
    out = frame.copy()
    targets = pd.DataFrame([row_goals(row, level, goals) for _, row in out.iterrows()],
                           index=out.index, columns=GOAL_COLUMNS)
    out = pd.concat([out, targets], axis=1)
    for prefix in ("", "prev_"):
        on_time = [ratio_score(a, t, lower_is_better=False)
                   for a, t in zip(out[f"{prefix}on_time_rate"], out["on_time_goal"], strict=True)]
        median = [ratio_score(a, t, lower_is_better=True)
                  for a, t in zip(out[f"{prefix}median_days_to_close"],
                                  out[f"{prefix}median_goal_days"], strict=True)]
        out[f"{prefix}on_time_score"] = pd.array(on_time, dtype="Float64")
        out[f"{prefix}median_score"] = pd.array(median, dtype="Float64")
        out[f"{prefix}score"] = pd.array(
            [combined_score(a, b) for a, b in zip(on_time, median, strict=True)], dtype="Float64"
        )
    for column in ("score", "on_time_score", "median_score"):  # object: None stays None
        out[f"{column}_status"] = pd.Series([status(_number(s)) for s in out[column]],
                                            index=out.index, dtype=object)
    out["score_status"] = pd.Series(  # every row says something: a colour, or why it has none
        [found if found in SCORED else unscored_reason(row)
         for found, (_, row) in zip(out["score_status"], out.iterrows(), strict=True)],
        index=out.index, dtype=object,
    )
    out["change_count_requests"] = _change(out["count_requests"], out["prev_count_requests"],
                                           relative=True)
    for column in ("median_days_to_close", "p90_days_to_close", "on_time_rate", "count_open",
                   "count_overdue", "score"):
        out[f"change_{column}"] = _change(out[column], out[f"prev_{column}"])
    return out


METHOD_NOTE = f"""
**How targets are set.** On-time rate: the department's goal in the city's configuration
(`[goals."Department"] on_time_rate`), else the city default of {DEFAULT_ON_TIME_GOAL:.0%}; a request
type uses its department's goal. Median days to close: the department's goal (`median_days`), else
the median of its requests' own type targets, which is the median it would have if every request
closed exactly on target; a request type uses its own target.

**How the score works.** Each metric scores actual ÷ target (on-time rate, where higher is better)
or target ÷ actual (median days, where lower is better), so 1.00 is exactly on target. CityScore
averages its metrics; here a row's score is the *lowest* of them, so a fast median cannot hide a
missed on-time goal. Green ● is 1 or more, amber ◐ is {AMBER_FLOOR:.1f} up to 1, red ○ is below
{AMBER_FLOOR:.1f}.

**Figures.** Requests created in the period, duplicates left out. Median and 90th percentile:
days from created to closed, of those closed. On time: closed by the due date, of those closed or
already past due (open ones not yet due are left out). Open and overdue: at the end of the period.
Each ± column is the change against the period of the same length just before.

**No score.** "No target": nothing to judge the row against (its requests have no due date, so
no on-time rate, and no target time). "Too few to judge": it has targets, but none of its
requests of the period was closed or came due.
"""

NO_TARGETS_NOTE = """
None of these requests has a service target, so there is nothing to score them against yet.
To add targets, give each request type a target time in the city's `city.toml`
(`[targets] default_hours = 120`, and `[targets.hours]` with a line such as `"Pothole" = 72`),
optionally a department's goals (`[goals."Department"] on_time_rate = 0.85`, `median_days = 3`),
then load the same files again (`civicstat ingest`): see "Loading your own city" in the README.
The figures below are shown without a status.
"""


def has_requests(scored: pd.DataFrame) -> bool:
    """Whether a scorecard has anything to show (requests created, or open, in the period)."""
    return bool(len(scored)) and int(scored["count_requests"].sum() + scored["count_open"].sum()) > 0


def load_goals(city_dir) -> dict[str, dict[str, float]]:
    """The department goals of city.toml ({} when the city folder has none or cannot be read)."""
    from civicstat.core.city import CityConfigError, load_city

    try:
        return load_city(city_dir).goals
    except (CityConfigError, OSError):
        return {}
