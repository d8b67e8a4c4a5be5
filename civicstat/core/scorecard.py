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

from civicstat.core import privacy
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
# A score resting on fewer requests than this (1 to FEW_REQUESTS - 1) is shown with a warning:
# one late request of three moves the on-time rate by a third.
FEW_REQUESTS = 5
FEW_MARK = "⚠"
# The metrics a row is scored on: (score column, words naming it, the column of its basis).
METRICS = (
    ("on_time_score", "on time", "count_on_time_eligible"),
    ("median_score", "median", "count_with_days_to_close"),
)


def status_label(value: object) -> str:
    """The words for a status (STATUS_LABELS); a missing or unknown one reads "too few to judge",
    never an error (pandas turns a None among strings into NaN)."""
    if missing(value):
        return STATUS_LABELS["too_few"]
    return STATUS_LABELS.get(str(value), STATUS_LABELS["too_few"])


def status_text(row: pd.Series) -> str:
    """The status words of a scored row as the scorecard shows them: the status, and when it is
    below target the metric(s) that put it there ("○ Off target: median"), since the row's
    status is its LOWEST metric score and the other metric may well be green; "⚠ n requests"
    when the score rests on n = 1 to FEW_REQUESTS - 1 requests ("● On target ⚠ 3")."""
    found = row["score_status"]
    text = status_label(found)
    if found in ("amber", "red"):
        named = [words for column, words, _ in METRICS if row.get(f"{column}_status") == found]
        if named:
            text += ": " + " + ".join(named)
    basis = score_basis(row)
    if is_few(basis):
        text += f" {FEW_MARK} {int(basis)}"
    return text


def score_basis(row: pd.Series) -> float | None:
    """The fewest requests any of the row's metric scores rests on (None when unscored): the
    due requests for the on-time rate, the closed ones for the median."""
    bases = [_number(row.get(basis)) for column, _, basis in METRICS
             if _number(row.get(column)) is not None]
    bases = [b for b in bases if b is not None]
    return min(bases) if bases else None


def is_few(basis: object) -> bool:
    """THE few-requests rule: a score resting on 1 to FEW_REQUESTS - 1 requests gets a warning."""
    number = _number(basis)
    return number is not None and 0 < number < FEW_REQUESTS


FEW_NOTE = (f"{FEW_MARK} n: the score rests on fewer than {FEW_REQUESTS} requests (due, "
            "or closed for the median), so one request more or less can change its colour.")


def on_time_goal(department: object, goals: dict[str, dict[str, float]]) -> tuple[float, str]:
    """A department's on-time goal and where it comes from: city.toml's
    `[goals."Department"] on_time_rate`, else the city default (DEFAULT_ON_TIME_GOAL)."""
    goal = goals.get(str(department), {}) if not missing(department) and department else {}
    value = goal.get("on_time_rate")
    if value is None:
        return DEFAULT_ON_TIME_GOAL, "city default"
    return float(value), "city.toml"


def department_median_goal(department: object, goals: dict[str, dict[str, float]]) -> float | None:
    """A department's median-days goal from city.toml (`[goals."Department"] median_days`), or
    None: its median target is then the median of its requests' type targets."""
    goal = goals.get(str(department), {}) if not missing(department) and department else {}
    value = goal.get("median_days")
    return None if value is None else float(value)


def median_target(department: object, request_type: object, goals: dict[str, dict[str, float]],
                  type_targets_days: object) -> float | None:
    """The median-days target of a selection, as the scorecard sets it: a request type's own
    target; else a department's `median_days` goal; else the median of the requests' type
    targets (`type_targets_days`, from the query)."""
    if missing(request_type) or not request_type:
        goal = department_median_goal(department, goals)
        if goal is not None:
            return goal
    return _number(type_targets_days)


def on_time_status(rate: object, goal: float) -> str | None:
    """The status of an on-time rate against its goal, by the scorecard's rule (its on-time
    metric's score and colour): 'green', 'amber', 'red' or None without a rate."""
    return status(ratio_score(rate, goal, lower_is_better=False))


PUBLIC_STATUS_WORDS = {"green": "on target", "amber": "near target", "red": "off target"}


def _number(value: object) -> float | None:
    if missing(value):
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
    on_time, on_time_source = on_time_goal(row["department"], goals)
    median = department_median_goal(row["department"], goals) if level == "department" else None
    return {
        "on_time_goal": on_time,
        "on_time_goal_source": on_time_source,
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
{AMBER_FLOOR:.1f}. The status names the metric that sets it ("○ Off target: median"):
the other metric may be on target, and its cell green. {FEW_MARK} and a number: the score rests on
fewer than {FEW_REQUESTS} requests (due ones for the on-time rate, closed ones for the median), so
a single request can change its colour.

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


# --- where: departments × districts ---------------------------------------------------------------

# The figures a department × district grid may show (department_by_district.sql's columns):
# label, and the column of the basis each rests on.
GRID_METRICS = {
    "on_time_rate": ("On-time rate", "count_on_time_eligible"),
    "median_days_to_close": ("Median days to close", "count_with_days_to_close"),
    "count_requests": ("Requests", "count_requests"),
}


def district_grid(frame: pd.DataFrame, metric: str, goals: dict[str, dict[str, float]],
                  district_order: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """department_by_district.sql's rows as grids, one row per department and one column per
    district (in `district_order`, else as they come): "value" (the metric), "basis" (the
    requests it rests on) and "status" (the on-time rate against the department's goal by the
    scorecard's rule; None for the other metrics)."""
    if metric not in GRID_METRICS:
        raise ValueError(f"unknown grid metric {metric!r}")
    basis = GRID_METRICS[metric][1]
    rows = frame.assign(
        status=[on_time_status(rate, on_time_goal(dept, goals)[0]) if metric == "on_time_rate"
                else None for dept, rate in zip(frame["department"], frame["on_time_rate"],
                                                strict=True)]
    )
    columns = district_order or list(dict.fromkeys(rows["district"]))
    columns = [c for c in columns if c in set(rows["district"])] + [
        c for c in dict.fromkeys(rows["district"]) if c not in set(columns)]
    grids = {}
    for name, column in (("value", metric), ("basis", basis), ("status", "status")):
        grid = rows.pivot(index="department", columns="district", values=column)
        grid = grid.reindex(columns=columns)
        grid = grid.astype(object).where(grid.notna(), None)
        grid.columns.name = None
        grids[name] = grid
    return grids


# --- the public's view of targets ----------------------------------------------------------------

PUBLIC_STATUS_MARKS = {"green": "●", "amber": "◐", "red": "○"}


def public_status_words(found: str | None) -> str:
    """A public status in words with its symbol ("○ off target"), never colour alone."""
    if found not in PUBLIC_STATUS_WORDS:
        return ""
    return f"{PUBLIC_STATUS_MARKS[found]} {PUBLIC_STATUS_WORDS[found]}"


def judge_on_time(frame: pd.DataFrame, goals: dict[str, dict[str, float]], k: int,
                  department_column: str = "group_value") -> pd.DataFrame:
    """Public rows (breakdown.sql's) with each one's on-time goal (its department's, as on the
    scorecard), the status of its on-time rate against it by the scorecard's rule, and that
    status in words. A rate the k rule withholds gets no status (a colour would tell its range):
    its words say "too few to judge"."""
    out = frame.copy()
    out["on_time_goal"] = [on_time_goal(d, goals)[0] for d in out[department_column]]
    statuses, words = [], []
    for rate, goal, due in zip(out["on_time_rate"], out["on_time_goal"],
                               out["count_on_time_eligible"], strict=True):
        if not privacy.is_shown("on_time_rate", due, k):
            statuses.append(None)
            words.append("too few to judge")
            continue
        found = on_time_status(rate, goal)
        statuses.append(found)
        words.append(public_status_words(found) or "no requests due")
    out["on_time_status"] = pd.Series(statuses, index=out.index, dtype=object)
    out["on_time_status_words"] = words
    return out


def target_words(hours: object) -> str:
    """A request type's target time in words: "3 days", "1 day", "36 hours", "no target"."""
    value = _number(hours)
    if value is None:
        return "no target"
    if value % 24 == 0:
        days = int(value // 24)
        return f"{days} day{'s' if days != 1 else ''}"
    if value < 48:
        return f"{value:g} hour{'s' if value != 1 else ''}"
    return f"{value / 24:.1f} days"
