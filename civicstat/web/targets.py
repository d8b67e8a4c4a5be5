"""Public page parts that show the city's performance against its targets (issue 13, item 4):
each department's on-time rate against its goal, SF-style (the share closed within the target
time, a status colour by the scorecard's rule, the goal and status written out), each request
type against its own target time, and the on-time rate and median days to close week by week
against the goal and the median target.

The rules are the scorecard's (core/scorecard.py: on_time_goal, on_time_status, judge_on_time),
the goals are city.toml's (`[goals."Department"] on_time_rate`, else the city default), and
every figure goes through the k rule (core/privacy.py): a withheld rate has no bar, no colour
and no status.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from civicstat.core import figures, privacy, scorecard
from civicstat.core.city import city_dir_from_env
from civicstat.web import ui

STATUS_KEY = (
    "Bar colours: green ● on target (at or above the goal), orange ◐ near target (at least "
    f"{scorecard.AMBER_FLOOR:.0%} of the goal), vermillion ○ off target. Black line: the goal."
)


def goals() -> dict[str, dict[str, float]]:
    """The department goals of city.toml ({} without one: every goal is then the default)."""
    return scorecard.load_goals(city_dir_from_env())


def _hover(rows: pd.DataFrame, k: int) -> list[str]:
    return [
        f"<b>{html.escape(str(row.group_value))}</b><br>"
        f"on time: {figures.cell('on_time_rate', row, k)} "
        f"({html.escape(row.on_time_status_words)})<br>"
        f"goal: {row.on_time_goal:.0%}<br>"
        f"{figures.cell('count_on_time_eligible', row, k)} due<br>"
        f"median days to close: {figures.cell('median_days_to_close', row, k)}"
        for row in rows.itertuples(index=False)
    ]


def on_time_by_department(departments: pd.DataFrame, k: int, image=None) -> list[str]:
    """On-time rate per department (breakdown.sql by department) against its goal: bars in the
    status colour with the goal drawn, and a table with the goal and the status in words;
    returns the same in plain words, one sentence per department, for ui.bullets. `image`:
    chart_images.ChartContext (a titled, downloadable PNG)."""
    from civicstat.web import chart_images, charts

    rated = departments[departments["count_on_time_eligible"] > 0]
    shown = [privacy.is_shown("on_time_rate", n, k) for n in rated["count_on_time_eligible"]]
    # highest rate first; withheld rates last, by name (their place would tell their rank)
    rated = rated.assign(_shown=shown, _rate=rated["on_time_rate"].where(shown)).sort_values(
        ["_shown", "_rate", "group_value"], ascending=[False, False, True]
    ).drop(columns=["_shown", "_rate"])
    if rated.empty:
        st.info("No requests were due in this period.")
        return []
    judged = scorecard.judge_on_time(rated, goals(), k)
    rows = list(judged.itertuples(index=False))
    lengths = privacy.drawn("on_time_rate", judged["on_time_rate"],
                            judged["count_on_time_eligible"], k)
    text = [f"{figures.cell('on_time_rate', row, k)} {row.on_time_status_words}"
            if length is not None else f"{figures.cell('on_time_rate', row, k)} to judge"
            for row, length in zip(rows, lengths, strict=True)]
    chart_images.show(
        charts.against_goal(
            [str(v) for v in judged["group_value"]], lengths,
            [float(g) for g in judged["on_time_goal"]],
            [s if length is not None else None
             for s, length in zip(judged["on_time_status"], lengths, strict=True)],
            _hover(judged, k), text, x_title="Share of due requests closed on time",
        ),
        "On time against the goal, by department", image,
    )
    st.caption(STATUS_KEY)
    sentences = [
        figures.on_time_sentence(
            str(r.group_value), int(r.count_on_time), int(r.count_on_time_eligible), k
        ) + (f" Its goal is {r.on_time_goal:.0%}: {r.on_time_status_words[2:]}."
             if r.on_time_status in scorecard.PUBLIC_STATUS_WORDS else "")
        for r in rows
    ]
    table = judged.assign(goal_text=[f"{g:.0%}" for g in judged["on_time_goal"]],
                          status_text=judged["on_time_status_words"])
    ui.data_table(
        table,
        {"group_value": ("Department", "text"), "count_on_time": ("Closed on time", "count"),
         "count_on_time_eligible": ("Due", "count"), "on_time_rate": ("On-time rate", "rate"),
         "goal_text": ("Goal", "text"), "status_text": ("Against the goal", "text"),
         **{c: v for c, v in ui.BREAKDOWN_COLUMNS.items() if c != "on_time_rate"}},
        k,
    )
    return sentences


TYPE_COLUMNS = {
    "group_value": ("Request type", "text"),
    "department": ("Department", "text"),
    "target_text": ("Target time", "text"),
    "on_time_rate": ("Closed within the target", "rate"),
    "goal_text": ("Goal", "text"),
    "status_text": ("Against the goal", "text"),
    "count_on_time_eligible": ("Due", "count"),
    "median_days_to_close": ("Median days to close", "days"),
}


def request_types_against_targets(types: pd.DataFrame, catalog: pd.DataFrame, k: int) -> None:
    """Each request type (breakdown.sql by request_type) with its target time in words
    (request_type_catalog.sql), the share closed within it, its department's goal and the status
    against it, in a table (the types with requests due in the period, most requested first)."""
    due = types[types["count_on_time_eligible"] > 0]
    if due.empty:
        st.caption("No requests were due in this period.")
        return
    info = catalog.drop_duplicates("request_type").set_index("request_type")
    merged = due.assign(
        department=[info["department"].get(t) for t in due["group_value"]],
        target_hours=[info["target_hours"].get(t) for t in due["group_value"]],
    )
    judged = scorecard.judge_on_time(merged, goals(), k, department_column="department")
    judged = judged.assign(
        target_text=[scorecard.target_words(h) for h in judged["target_hours"]],
        goal_text=[f"{g:.0%}" for g in judged["on_time_goal"]],
        status_text=judged["on_time_status_words"],
    )
    ui.data_table(judged, TYPE_COLUMNS, k, expander=None)


WEEK_COLUMNS = {
    "week_start": ("Week starting", "date"),
    "on_time_rate": ("On-time rate", "rate"),
    "count_on_time_eligible": ("Due", "count"),
    "median_days_to_close": ("Median days to close", "days"),
    "count_with_days_to_close": ("Closed", "count"),
    "count_days_in_period": ("Days in period", "text"),
}


def over_time(weeks: pd.DataFrame, department: str | None, request_type: str | None, k: int,
              image=None) -> None:
    """The on-time rate and the median days to close of each week's requests (weekly_on_time.sql)
    against the target: the on-time goal (the department's, else the city default) and the
    median target (scorecard.median_target: the type's own, the department's goal, else the
    median of the requests' type targets, shown only when it rests on k requests or more)."""
    from civicstat.web import chart_images, charts

    if weeks["count_on_time_eligible"].sum() == 0 and weeks["count_with_days_to_close"].sum() == 0:
        st.info("No request created in this period has been closed or come due yet.")
        return
    goal, _ = scorecard.on_time_goal(department, goals())
    first = weeks.iloc[0]
    target = scorecard.median_target(department, request_type, goals(),
                                     first["median_target_days"])
    if target is not None and not privacy.is_shown(
            "median_target_days", first["count_requests_in_period"], k):
        target = None  # a median of few requests' type targets would tell their types
    left, right = st.columns(2, gap="large")
    with left:
        chart_images.show(
            charts.weekly_against_target(weeks, "on_time_rate", k, goal,
                                         y_title="Share closed on time",
                                         target_text=f"Goal {goal:.0%}"),
            "On time each week, against the goal", image)
    with right:
        chart_images.show(
            charts.weekly_against_target(
                weeks, "median_days_to_close", k, target, y_title="Median days to close",
                target_text=f"Target {figures.duration(target)}" if target is not None else ""),
            "Median days to close each week, against the target", image)
    st.caption(
        f"Each week's requests (created that week). Dashed lines: the on-time goal, {goal:.0%} "
        "closed within their target time" + (
            f", and the median target, {figures.duration(target)}" if target is not None
            else "; the median has no target to show for these requests")
        + ". Hollow markers: weeks only partly inside the period. The latest weeks' medians count "
        "only the requests already closed, which are the quicker ones.")
    ui.data_table(weeks, WEEK_COLUMNS, k)
