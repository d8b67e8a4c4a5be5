"""Streamlit building blocks of the staff pages: page header, scorecard and aging tables, a
request shown whole, CSV downloads.

Everything that comes from the source data (names, addresses, descriptions, raw lines) is shown
through st.dataframe, st.text or widget options, which render text, never Markdown or HTML; where
a value must sit in Markdown (a heading) it goes through ui.md, which escapes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from civicstat.core import explorer, figures, privacy, scorecard
from civicstat.core.values import missing
from civicstat.exports.formats import to_csv
from civicstat.serve.snapshots import SnapshotMissing
from civicstat.web import auth, data, media
from civicstat.web.ui import md

# Pale fills, each paired with a symbol and words in the status column (never colour alone).
STATUS_FILL = {"green": "#d8f0d2", "amber": "#fde8c4", "red": "#f9d3d0"}


def staff_page(title: str, lede: str | None = None) -> dict:
    """Start a staff page: the internal snapshot's info (or a plain message), title, as-of line."""
    try:
        info = data.internal_info()
    except SnapshotMissing as missing:
        st.error(f"No published data yet. {missing}")
        st.stop()
    st.title(title)
    as_of = pd.Timestamp(info["as_of"])
    st.caption(
        f"{md(info['city_name'])} · internal view · data as of **{as_of:%A %d %B %Y, %H:%M}** "
        f"({md(info['timezone'])}) · snapshot {md(info['version'])}"
    )
    if info.get("data_note"):  # core/asof.py: a late as-of, sources without closures
        st.caption(md(info["data_note"]))
    if lede:
        st.markdown(lede)
    if not info["count_requests"] or pd.isna(info["as_of"]):
        st.info("No requests loaded yet: load an export with `civicstat ingest` (rejected "
                "records are listed by `civicstat quarantine`).")
        st.stop()
    return info


def _fmt(pattern: str):
    """A cell formatter: "–" for no value; "{pts}" shows a rate change in points, "{days}" and
    "{+days}" a duration given in days (or its change) as figures.duration writes it."""
    def apply(value: object) -> str:
        if missing(value):
            return "–"
        if isinstance(value, float) and math.isinf(value):
            return "∞"
        if pattern == "{pts}":
            return f"{float(value) * 100:+.1f} pts"
        if pattern == "{days}":
            return figures.duration(float(value))
        if pattern == "{+days}":
            return figures.day_change(float(value))
        return pattern.format(value)

    return apply


# (column, label, format, help) of the scorecard table, left to right: the figures and their
# targets, narrow enough to read at 1366 px without scrolling sideways (SCORECARD_CHANGES, the
# score, the changes against the previous period and the commitments, are a second table below).
SCORECARD_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("status_text", "Status", "{}", "Against target: the lowest of the metric scores, and the "
     "metric that sets it; ⚠ n: the score rests on only n requests"),
    ("count_requests", "Requests", "{:,.0f}", "Created in the period (duplicates left out)"),
    ("median_days_to_close", "Median days", "{days}", "Median days to close, requests created "
     "in the period and closed"),
    ("median_goal_days", "Target", "{days}", "Median days target (see How targets are set)"),
    ("on_time_rate", "On time", "{:.0%}", "Closed by the due date, of those closed or past due"),
    ("on_time_goal", "Goal", "{:.0%}", "On-time goal (see How targets are set)"),
    ("count_open", "Open", "{:,.0f}", "Open at the end of the period"),
    ("count_overdue", "Overdue", "{:,.0f}", "Open and past due at the end of the period"),
)
SCORECARD_CHANGES: tuple[tuple[str, str, str, str], ...] = (
    ("score", "Score", "{:.2f}", "Lowest of on-time ÷ goal and target ÷ median days; 1 = on target"),
    ("change_score", "± score", "{:+.2f}", "Change in the score against the previous period"),
    ("change_count_requests", "± requests", "{:+.0%}", "Change against the previous period"),
    ("change_median_days_to_close", "± median", "{+days}", "Change in days against the "
     "previous period"),
    ("p90_days_to_close", "P90 days", "{days}", "90th percentile: 90% of the closed requests "
     "closed within this many days"),
    ("change_p90_days_to_close", "± P90", "{+days}", "Change in days against the previous period"),
    ("change_on_time_rate", "± on time", "{pts}", "Change in the on-time rate against the previous "
     "period (percentage points)"),
    ("change_count_open", "± open", "{:+,.0f}", "Change against the end of the previous period"),
    ("change_count_overdue", "± overdue", "{:+,.0f}", "Change against the end of the previous "
     "period"),
)
# Column widths in pixels of the first table: with the name (170) and the row selector they add
# up to under 900 px, the table's width on a 1366 px screen with the sidebar open.
_WIDTHS = {"Status": 205, "Requests": 74, "Median days": 90, "Target": 66, "On time": 66,
           "Goal": 56, "Open": 60, "Overdue": 72}
NAME_WIDTH = 170
# The cells filled with a status colour, and the status column deciding each fill.
SCORECARD_FILLS = {
    "Status": "score_status", "Score": "score_status",
    "On time": "on_time_score_status", "Median days": "median_score_status",
}


def scorecard_display(scored: pd.DataFrame, name_label: str, total_label: str,
                      columns=SCORECARD_COLUMNS) -> pd.DataFrame:
    """The scored frame as the table people read: a name column, then `columns`
    (SCORECARD_COLUMNS or SCORECARD_CHANGES), and with the changes the row's commitments."""
    names = [total_label if total else key
             for key, total in zip(scored["group_key"], scored["is_total"], strict=True)]
    table = pd.DataFrame({name_label: names}, index=range(len(scored)))
    status_text = [scorecard.status_text(row) for _, row in scored.iterrows()]
    for column, label, _, _ in columns:
        values = status_text if column == "status_text" else scored[column].to_numpy()
        table[label] = values
    if "commitments" in scored and columns is SCORECARD_CHANGES:  # web/commitments.py
        table["Commitments"] = scored["commitments"].to_numpy()
    return table


def _scorecard_styles(scored: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    for label, status_column in SCORECARD_FILLS.items():
        if label in styles:
            styles[label] = [f"background-color: {STATUS_FILL[s]}" if s in STATUS_FILL else ""
                             for s in scored[status_column]]
    total = scored["is_total"].to_numpy()
    styles.loc[total, :] = styles.loc[total, :] + "; font-weight: 700"
    return styles


def scorecard_table(scored: pd.DataFrame, *, name_label: str, total_label: str, key: str,
                    on_select) -> None:
    """The sortable scorecard with red/amber/green fills; clicking a row calls on_select(key).
    Below it, the same rows' changes against the previous period."""
    keys = scored["group_key"].tolist()
    totals = scored["is_total"].tolist()

    def selected() -> None:
        rows = st.session_state[key].selection.rows
        if rows and not totals[rows[0]]:
            on_select(keys[rows[0]])

    table = scorecard_display(scored, name_label, total_label)
    _scorecard_frame(scored, table, SCORECARD_COLUMNS, name_label, key=key, on_select=selected)
    if any(scorecard.is_few(scorecard.score_basis(row)) for _, row in scored.iterrows()):
        st.caption(scorecard.FEW_NOTE)
    st.markdown("**Score, change against the previous period, commitments**")
    changes = scorecard_display(scored, name_label, total_label, SCORECARD_CHANGES)
    _scorecard_frame(scored, changes, SCORECARD_CHANGES, name_label, key=f"{key}_changes")


def _scorecard_frame(scored: pd.DataFrame, table: pd.DataFrame, columns, name_label: str, *,
                     key: str, on_select=None) -> None:
    formats = {label: _fmt(fmt) for _, label, fmt, _ in columns}
    styler = (
        table.style.format(formats)
        .apply(lambda _: _scorecard_styles(scored, table), axis=None)
    )
    config = {label: st.column_config.Column(label, help=text, width=_WIDTHS.get(label))
              for _, label, _, text in columns}
    config[name_label] = st.column_config.Column(name_label, pinned=True, width=NAME_WIDTH)
    config["Commitments"] = st.column_config.Column(
        "Commitments", help="Commitments recorded for this row, and how they stand now")
    selection = {"on_select": on_select, "selection_mode": "single-row"} if on_select else {}
    st.dataframe(
        styler, hide_index=True, width="stretch", column_config=config, key=key,
        height=min(35 * (len(table) + 1) + 3, 720), **selection,
    )


GRID_FORMATS = {"on_time_rate": "{:.0%}", "median_days_to_close": "{days}",
                "count_requests": "{:,.0f}"}


def district_grid_table(grids: dict[str, pd.DataFrame], metric: str, key: str) -> None:
    """A department × district grid (scorecard.district_grid) as a table: each cell the metric,
    "⚠" beside one resting on fewer than scorecard.FEW_REQUESTS requests, an on-time cell filled
    with its status colour against the department's goal (the scorecard's rule) and named in
    words in its tooltip-free text ("62% ○"), never colour alone."""
    write = _fmt(GRID_FORMATS[metric])
    marks = {"green": " ●", "amber": " ◐", "red": " ○"}
    values, bases, statuses = grids["value"], grids["basis"], grids["status"]
    text = pd.DataFrame(index=values.index, columns=values.columns, dtype=object)
    for district in values.columns:
        text[district] = [
            "" if missing(v) else write(v) + marks.get(s, "")
            + (f" {scorecard.FEW_MARK}" if scorecard.is_few(b) else "")
            for v, b, s in zip(values[district], bases[district], statuses[district], strict=True)
        ]
    table = text.reset_index().rename(columns={"department": "Department"})
    fills = statuses.map(lambda s: f"background-color: {STATUS_FILL[s]}" if s in STATUS_FILL
                         else "").reset_index(drop=True)
    styler = table.style.apply(
        lambda frame: pd.concat([pd.Series("", index=frame.index, name="Department"), fills],
                                axis=1).set_axis(frame.columns, axis=1), axis=None)
    config = {"Department": st.column_config.TextColumn("Department", pinned=True, width="medium")}
    st.dataframe(styler, hide_index=True, width="stretch", key=key, column_config=config,
                 height=min(35 * (len(table) + 1) + 3, 560))


AGING_COLUMNS = {  # backlog_aging.sql's figures, as people read them
    "count_age_0_7": "0–7 days",
    "count_age_8_30": "8–30 days",
    "count_age_31_90": "31–90 days",
    "count_age_over_90": "Over 90 days",
    "count_open": "All open",
    "count_overdue": "Overdue",
    "median_age_days": "Median age (days)",
    "max_age_days": "Oldest (days)",
}


def aging_table(aging: pd.DataFrame, name_label: str, total_label: str) -> None:
    names = [total_label if total else key
             for key, total in zip(aging["group_key"], aging["is_total"], strict=True)]
    table = aging[list(AGING_COLUMNS)].rename(columns=AGING_COLUMNS)
    table.insert(0, name_label, names)
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={label: st.column_config.NumberColumn(label, format="localized")
                       for label in AGING_COLUMNS.values()},
    )


def download_csv(frame: pd.DataFrame | Callable[[], pd.DataFrame], label: str, file_name: str,
                 key: str, exclude: tuple[str, ...] = ()) -> None:
    """A download button for `frame` (less the `exclude` columns) as CSV that spreadsheets open
    as text (civicstat.exports.formats). `frame` may be a function returning it: then it runs only when
    the button is clicked, so a large export costs the page nothing until someone asks for it."""
    def csv_bytes(table: pd.DataFrame) -> bytes:
        return to_csv(table.drop(columns=[c for c in exclude if c in table.columns]))

    data_csv = (lambda: csv_bytes(frame())) if callable(frame) else csv_bytes(frame)
    tracked = media.tracked(data_csv, "text/csv", file_name, auth.identity().activity_key)
    st.download_button(label, tracked, file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click="ignore")


def _when(value: object) -> str:
    return "–" if missing(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def request_card(row: pd.Series, typical: pd.Series | None) -> None:
    """One request, whole. Source text is shown with st.text / st.dataframe only."""
    st.subheader(f"Request {md(row['request_id'])}")
    median = typical["median_days_to_close"] if typical is not None else None
    p90 = typical["p90_days_to_close"] if typical is not None else None
    is_open = row["status"] == "open"
    tiles = st.columns(4)
    tiles[0].metric("Status", "open" if is_open else "closed", border=True)
    tiles[1].metric("Days open so far" if is_open else "Days to close",
                    _fmt("{days}")(row["days_taken"]), border=True)
    tiles[2].metric("Type median (last 365 days)", _fmt("{days}")(median), border=True)
    tiles[3].metric("Type 90th percentile", _fmt("{days}")(p90), border=True)
    st.text(explorer.typical_comparison(row["days_taken"], is_open, median, p90))
    if not missing(row.get("is_overdue")) and bool(row.get("is_overdue")):
        st.warning("Overdue: open and past its due date.", icon=":material/schedule:")
    left, right = st.columns([2, 3])
    flags = row.get("flags")
    flags = [] if flags is None or not hasattr(flags, "__len__") else list(flags)
    fields = {
        "Request type": row["request_type"], "Department": row["department"],
        "Category": row["category"], "District": row["district"],
        "Neighbourhood": row["neighborhood"], "Address": row["address"],
        "Channel": row["channel"], "Created": _when(row["created_at"]),
        "Due": _when(row["due_at"]), "Closed": _when(row["closed_at"]),
        "Closure": row["closure"], "Last updated": _when(row["updated_at"]),
        "Source": row["source"],
        "Quality flags": "; ".join(map(str, flags)) or "none",
        "Location": "–" if missing(row["lat"]) else f"{row['lat']:.5f}, {row['lon']:.5f}",
    }
    left.dataframe(
        pd.DataFrame({"Field": list(fields), "Value": ["–" if missing(v) else str(v)
                                                       for v in fields.values()]}),
        hide_index=True, width="stretch", height=35 * (len(fields) + 1) + 3,
    )
    with right:
        st.caption("Description (the resident's words, shown as plain text)")
        with st.container(border=True):
            st.text(row["description"] if not missing(row["description"]) else "(none)")
        st.caption("Resolution (the department's closing note)")
        with st.container(border=True):
            st.text(row["resolution"] if not missing(row["resolution"]) else "(none yet)")


REQUEST_LIST_COLUMNS = {  # requests_search.sql's columns, as a list people scan
    "request_id": "Request",
    "created_at": "Created",
    "status": "Status",
    "days_taken": "Days",
    "due_at": "Due",
    "is_overdue": "Overdue",
    "request_type": "Type",
    "district": "District",
    "address": "Address",
    "description": "Description",
}
EXPLORER_PAGE = "views/internal/requests.py"


def _picked(state, ids: list) -> str | None:
    rows = state.selection.rows if state is not None else []
    return str(ids[rows[0]]) if rows else None


def request_list(found: pd.DataFrame, key: str, height: int = 420) -> str | None:
    """Requests as rows (text only; the description as the resident wrote it). Returns the id of
    the row selected, if any."""
    config = {
        "request_id": st.column_config.TextColumn("Request", pinned=True),
        "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
        "due_at": st.column_config.DatetimeColumn("Due", format="YYYY-MM-DD HH:mm"),
        "days_taken": st.column_config.NumberColumn(
            "Days", format="%.1f", help="Days to close, or days open so far"),
        "is_overdue": st.column_config.CheckboxColumn("Overdue"),
        "description": st.column_config.TextColumn("Description", width="large"),
    }
    config.update({c: st.column_config.TextColumn(label) for c, label in REQUEST_LIST_COLUMNS.items()
                   if c not in config})
    state = st.dataframe(
        found[list(REQUEST_LIST_COLUMNS)], hide_index=True, width="stretch", column_config=config,
        key=key, on_select="rerun", selection_mode="single-row",
        height=min(height, 35 * (len(found) + 1) + 3),
    )
    return _picked(state, found["request_id"].tolist())


def open_in_explorer(request_id: str | None) -> None:
    """Go to the request explorer showing `request_id` (no-op for None). Stays in this session,
    so a sign-in is kept (a link would open a new session)."""
    if request_id:
        st.switch_page(EXPLORER_PAGE, query_params={"request_id": request_id})


def _total_row(frame: pd.DataFrame) -> pd.Series:
    return frame[frame["is_total"]].iloc[0]


def backlog_tiles(aging: pd.DataFrame) -> None:
    """Open now, overdue, open over 90 days and median age, from backlog_aging.sql's total row."""
    total = _total_row(aging)
    tiles = st.columns(4)
    tiles[0].metric("Open now", f"{int(total['count_open']):,}", border=True)
    share = total["count_overdue"] / total["count_open"] if total["count_open"] else 0
    tiles[1].metric("Overdue", f"{int(total['count_overdue']):,}", f"{share:.0%} of open",
                    delta_color="off", delta_arrow="off", border=True)
    tiles[2].metric("Open over 90 days", f"{int(total['count_age_over_90']):,}", border=True)
    tiles[3].metric("Median age", f"{total['median_age_days']:.0f} days", border=True)


OVERDUE_COLUMNS = {  # overdue_requests.sql's columns, as people read them
    "request_id": "Request",
    "days_late": "Days late",
    "age_days": "Age (days)",
    "due_at": "Was due",
    "request_type": "Type",
    "department": "Department",
    "district": "District",
    "address": "Address",
    "channel": "Channel",
}


def overdue_list(overdue: pd.DataFrame, key: str, shown: int = 1000) -> str | None:
    """The overdue requests (overdue_requests.sql), how many there are in all, and a CSV download
    of the list. Returns the id of the row selected, if any."""
    count = int(overdue["count_overdue"].iloc[0]) if len(overdue) else 0
    if not count:
        st.info("Nothing is overdue.")
        return None
    st.caption(f"{count:,} overdue" + (f" (the {shown:,} most overdue shown)" if count > shown else "")
               + ". Select a row to open the request in the request explorer.")
    state = st.dataframe(
        overdue[list(OVERDUE_COLUMNS)], hide_index=True, width="stretch", key=f"{key}_table",
        on_select="rerun", selection_mode="single-row",
        column_config={
            "request_id": st.column_config.TextColumn("Request", pinned=True),
            "days_late": st.column_config.NumberColumn("Days late", format="%.1f"),
            "age_days": st.column_config.NumberColumn("Age (days)", format="%d"),
            "due_at": st.column_config.DatetimeColumn("Was due", format="YYYY-MM-DD HH:mm"),
            **{c: st.column_config.TextColumn(label) for c, label in OVERDUE_COLUMNS.items()
               if c not in ("request_id", "days_late", "age_days", "due_at")},
        },
    )
    download_csv(overdue, "Download this list (CSV)", "overdue-requests.csv", key=f"{key}_csv",
                 exclude=("count_overdue",))
    return _picked(state, overdue["request_id"].tolist())


def key_values(values: dict[str, object], key: str | None = None) -> None:
    """A two-column table of labelled values, all shown as text."""
    st.dataframe(
        pd.DataFrame({"": list(values), "Value": ["–" if missing(v) else str(v)
                                                  for v in values.values()]}),
        hide_index=True, width="stretch", key=key,
    )


def quality_tiles(summary: pd.DataFrame, flags: pd.DataFrame, count_requests: int) -> None:
    """Quarantined records, flagged requests and duplicates, as tiles."""
    quarantined = int(summary["count_records"].sum()) if len(summary) else 0
    duplicates = int(flags.loc[flags["flag"] == "closed_as_duplicate", "count_flagged"].sum())
    flagged = int(flags.loc[flags["flag"] != "closed_as_duplicate", "count_flagged"].sum())
    tiles = st.columns(3)
    tiles[0].metric("Records quarantined", f"{quarantined:,}", border=True,
                    help="Rows that could not be used at all (no id, no date ...): kept aside")
    tiles[1].metric("Flags besides duplicates", f"{flagged:,}", border=True,
                    help="Doubtful but usable values, kept and flagged (a request can have "
                    "several); requests closed as duplicates are counted in the next tile")
    tiles[2].metric("Closed as duplicate", f"{duplicates:,}",
                    f"{duplicates / count_requests:.1%} of requests" if count_requests else None,
                    delta_color="off", delta_arrow="off", border=True,
                    help="Left out of every performance figure")


def completeness_table(completeness: pd.DataFrame) -> None:
    st.dataframe(
        completeness, hide_index=True, width="stretch",
        column_config={
            "source": st.column_config.TextColumn("Source"),
            "field": st.column_config.TextColumn("Field"),
            "count_applicable": st.column_config.NumberColumn(
                "Requests", format="localized",
                help="Requests the field applies to (closing fields: closed requests only)"),
            "count_filled": st.column_config.NumberColumn("Filled", format="localized"),
            "share_filled": st.column_config.ProgressColumn("Share filled", format="percent",
                                                            min_value=0, max_value=1),
        },
    )


def snapshot_table(infos: list[dict]) -> None:
    """One row per snapshot: audience, version, build time, as-of, requests."""
    st.dataframe(
        pd.DataFrame([{
            "Snapshot": f"{i['audience']}.duckdb", "Version": i["version"],
            "Built (UTC)": pd.Timestamp(i["built_at"]), "Data as of": pd.Timestamp(i["as_of"]),
            "Requests in the store": int(i["count_requests"]),
            "Content hash": i["content_hash"],
        } for i in infos]),
        hide_index=True, width="stretch",
        column_config={"Requests in the store": st.column_config.NumberColumn(format="localized")},
    )


INGEST_RUN_COLUMNS = {
    "run_id": st.column_config.NumberColumn("Run", format="%d"),
    "started_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm:ss"),
    "finished_at": st.column_config.DatetimeColumn("Finished", format="YYYY-MM-DD HH:mm:ss"),
    "seconds": st.column_config.NumberColumn("Seconds", format="%.0f"),
    "source": st.column_config.TextColumn("Source"),
    "files": st.column_config.TextColumn("Files", width="large"),
    "count_read": st.column_config.NumberColumn("Read", format="localized"),
    "count_inserted": st.column_config.NumberColumn("Inserted", format="localized"),
    "count_updated": st.column_config.NumberColumn("Updated", format="localized"),
    "count_unchanged": st.column_config.NumberColumn("Unchanged", format="localized"),
    "count_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
    "rejected_by_reason": st.column_config.TextColumn("Rejected by reason"),
}
POLICY_COLUMNS = {
    "request_type": st.column_config.TextColumn("Request type"),
    "department": st.column_config.TextColumn("Department"),
    "category": st.column_config.TextColumn("Category"),
    "count_requests": st.column_config.NumberColumn("Requests", format="localized"),
    "target_hours": st.column_config.NumberColumn("Target (hours)", format="%.0f"),
    "target_days": st.column_config.NumberColumn("Target (days)", format="%.1f"),
    "privacy_tier": st.column_config.TextColumn(
        "Privacy tier", help="no_location / aggregate_only as set in city.toml [privacy.sensitive]"),
}


def goals_table(goals: dict[str, dict[str, float]]) -> None:
    """city.toml's department goals, one row per department."""
    if not goals:
        st.info("city.toml sets no department goals.")
        return
    st.dataframe(
        pd.DataFrame([{"department": d, **g} for d, g in goals.items()]), hide_index=True,
        width="stretch", column_config={
            "department": st.column_config.TextColumn("Department"),
            "on_time_rate": st.column_config.NumberColumn("On-time goal", format="percent"),
            "median_days": st.column_config.NumberColumn("Median days goal", format="%.1f"),
        },
    )


SOURCE_COLUMNS = {
    "source": st.column_config.TextColumn("Source"),
    "count_requests": st.column_config.NumberColumn("Requests", format="localized"),
    "first_created_at": st.column_config.DatetimeColumn("First created", format="YYYY-MM-DD"),
    "last_created_at": st.column_config.DatetimeColumn("Last created", format="YYYY-MM-DD"),
}
TIER_MEANING = {
    "no_location": "published without a location",
    "aggregate_only": "only in city-wide totals, never request by request",
}


def privacy_policy(public_info: dict) -> None:
    """The public snapshot's suppression threshold and sensitive request types, as published."""
    st.text(f"In public, {privacy.rule_text(int(public_info['k']))}.")
    sensitive = json.loads(public_info["sensitive"] or "{}")
    st.dataframe(
        pd.DataFrame({"Sensitive request type": list(sensitive),
                      "Tier": list(sensitive.values()),
                      "Meaning": [TIER_MEANING.get(t, "") for t in sensitive.values()]}),
        hide_index=True, width="stretch",
    )
