"""Commitments in the app: reading and writing them (staff only, whatever page asks), judging them
against the internal snapshot (civicstat.core.commitments), and the page parts that list, record,
edit and close them.

Every function that reads or writes a commitment checks the session's role first (StaffOnly), as
the internal data functions do: a public page (the district briefing) asks `can_see()` and shows
nothing to a visitor who is not signed in as staff.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from civicstat.accounts.users import GRANTED_ROLES
from civicstat.commitments.store import CommitmentError, CommitmentStore
from civicstat.core import commitments as rules
from civicstat.core.city import city_dir_from_env
from civicstat.core.commitments import Commitment, Judgement
from civicstat.core.scorecard import load_goals
from civicstat.web import auth, data
from civicstat.web.ui import md


def can_see() -> bool:
    """Whether this session may see commitments (a staff role)."""
    return auth.identity().role in GRANTED_ROLES


def _store() -> CommitmentStore:
    data._require_staff()
    return CommitmentStore(city_dir_from_env())


def _actor() -> str:
    return auth.identity().name or "staff"


def _judge(items: list[Commitment]) -> list[Judgement]:
    info = data.internal_info()
    goals = load_goals(city_dir_from_env())
    return [rules.judge(c, info["as_of"], data.internal_query, goals) for c in items]


def judged(*, department: str | None = None, district: str | None = None) -> list[Judgement]:
    """The commitments (of a department, of a district) with their status now; staff only."""
    return _judge(_store().list(department=department, district=district))


def record(c: Commitment) -> Commitment:
    """Record a new commitment, with its baseline (its figure in the snapshot served now)."""
    store = _store()
    info = data.internal_info()
    return store.add(rules.with_baseline(c, info["as_of"], data.internal_query,
                                         load_goals(city_dir_from_env())), actor=_actor())


def edit(commitment_id: int, changes: dict, reason: str = "") -> Commitment:
    return _store().edit(commitment_id, changes, actor=_actor(), reason=reason)


def close(commitment_id: int, reason: str) -> Commitment:
    return _store().close(commitment_id, reason, actor=_actor())


def reopen(commitment_id: int, reason: str) -> Commitment:
    return _store().reopen(commitment_id, reason, actor=_actor())


def history(commitment_id: int) -> pd.DataFrame:
    rows = _store().history(commitment_id)
    return pd.DataFrame(
        [{"When (UTC)": e["at"].replace("T", " ")[:19], "Who": e["actor"] or "–",
          "What": e["action"], "Details": _details(e["details"])} for e in rows],
        columns=["When (UTC)", "Who", "What", "Details"],
    )


def _details(details: dict) -> str:
    if "changes" in details:
        text = "; ".join(f"{name}: {old!r} → {new!r}" for name, (old, new) in details["changes"].items())
        return text + (f" (reason: {details['reason']})" if details.get("reason") else "")
    if "reason" in details:
        return f"reason: {details['reason']}" if details["reason"] else ""
    return "; ".join(f"{name}: {value!r}" for name, value in details.items() if value not in (None, ""))


# Page parts -------------------------------------------------------------------------------------

SHOWN_COLUMNS = ["Status", "Department", "District", "Request type", "Channel", "Figure", "Target",
                 "Due", "Now", "At due date", "When made", "Trend", "Owner", "Note"]


def table(judgements: list[Judgement], *, key: str, select: bool = False,
          columns: list[str] | None = None) -> int | None:
    """The commitments as a table (text cells only); with select, the id of the row picked."""
    frame = rules.judgement_rows(judgements)
    shown = frame[columns or SHOWN_COLUMNS]
    if not select:
        st.dataframe(shown, hide_index=True, width="stretch", key=key)
        return None
    event = st.dataframe(shown, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    return int(frame["id"].iloc[rows[0]]) if rows else None


def from_url(value: object, listed: list[Judgement]) -> int | None:
    """The id in a URL parameter, if it is one of the commitments listed (else None)."""
    ids = {j.commitment.id for j in listed}
    try:
        chosen = int(str(value))
    except ValueError:
        return None
    return chosen if chosen in ids else None


def row_summaries(scored: pd.DataFrame, level: str, judgements: list[Judgement]) -> list[str]:
    """A cell per scorecard row: its commitments and how they stand ("" for none). A department
    row counts all of its department's commitments, a request-type row those about its type; the
    total row counts them all."""
    cells = []
    for key, total in zip(scored["group_key"], scored["is_total"], strict=True):
        if total:
            mine = judgements
        elif level == "department":
            mine = [j for j in judgements if j.commitment.department == key]
        else:
            mine = [j for j in judgements if j.commitment.request_type == key]
        cells.append(rules.row_summary(mine))
    return cells


def record_form(options: pd.DataFrame, options_for, *, key: str,
                department: str | None = None, district: str | None = None,
                request_type: str | None = None, channel: str | None = None) -> None:
    """A form to record a commitment, its scope preset from the page's filters."""
    departments = options_for(options, "department", None)
    with st.form(key, clear_on_submit=True):
        left, right = st.columns(2)
        chosen_department = left.selectbox(
            "Department", departments, key=f"{key}_department",
            index=departments.index(department) if department in departments else 0)
        metric = right.selectbox("Figure", list(rules.METRICS), key=f"{key}_metric",
                                 format_func=lambda m: rules.METRICS[m].label)
        scope = st.columns(3)
        picks = {}
        for column, (name, label, preset) in zip(scope, (
            ("district", "District", district), ("request_type", "Request type", request_type),
            ("channel", "Channel", channel),
        ), strict=True):
            values = options_for(options, name, None)
            picks[name] = column.selectbox(label, values, placeholder="All", key=f"{key}_{name}",
                                           index=values.index(preset) if preset in values else None)
        left, middle, right = st.columns(3)
        target = left.number_input(
            "Target (a rate in %, days, a count or a score)", min_value=0.0, value=85.0, step=1.0,
            key=f"{key}_target",
            help="An on-time rate target is written in percent (85 for 85%).")
        due = middle.date_input("Due date", dt.date.today() + dt.timedelta(days=60))
        window = right.selectbox("Measured over (days)", rules.WINDOW_CHOICES,
                                 index=rules.WINDOW_CHOICES.index(rules.DEFAULT_WINDOW_DAYS))
        owner = st.text_input("Owner", max_chars=200, key=f"{key}_owner")
        note = st.text_area("Note", max_chars=2000, key=f"{key}_note")
        if not st.form_submit_button("Record commitment", type="primary"):
            return
    value = target / 100 if rules.METRICS[metric].kind == "rate" else target
    try:
        made = record(Commitment(department=chosen_department, metric=metric, target=value,
                                 due_date=due, window_days=int(window), owner=owner, note=note,
                                 **picks))
    except (ValueError, CommitmentError) as problem:
        st.error(f"Not recorded: {md(problem)}")
        return
    st.success(f"Recorded: {md(made.describe())}")


def edit_panel(commitment_id: int, options: pd.DataFrame, options_for) -> None:
    """Edit, close or reopen one commitment, and its full history."""
    c = _store().get(commitment_id)
    st.markdown(f"**{md(c.describe())}** · made {c.made_at:%d %b %Y} by {md(c.made_by or '–')}"
                + (f" · closed: {md(c.close_reason)}" if c.closed else ""))
    kind = rules.METRICS[c.metric].kind
    with st.form(f"edit_{commitment_id}"):
        left, middle, right = st.columns(3)
        target = left.number_input("Target", min_value=0.0,
                                   value=float(c.target * 100 if kind == "rate" else c.target))
        due = middle.date_input("Due date", c.due_date)
        owner = right.text_input("Owner", c.owner, max_chars=200, key=f"edit_owner_{commitment_id}")
        note = st.text_area("Note", c.note, max_chars=2000, key=f"edit_note_{commitment_id}")
        reason = st.text_input("Reason for the change (kept in the history)", max_chars=500,
                               key=f"edit_reason_{commitment_id}")
        if st.form_submit_button("Save changes"):
            try:
                saved = edit(commitment_id, {"target": target / 100 if kind == "rate" else target,
                                             "due_date": due, "owner": owner, "note": note}, reason)
                if saved.revision == c.revision:
                    st.info("Nothing changed.")
                else:
                    st.success("Saved.")
            except (ValueError, CommitmentError) as problem:
                st.error(f"Not saved: {md(problem)}")
    with st.form(f"close_{commitment_id}"):
        reason = st.text_input("Reason (required)", max_chars=500,
                               key=f"close_reason_{commitment_id}")
        label = "Reopen" if c.closed else "Close commitment"
        if st.form_submit_button(label):
            try:
                (reopen if c.closed else close)(commitment_id, reason)
                st.success("Reopened." if c.closed else "Closed.")
            except CommitmentError as problem:
                st.error(md(problem))
    st.markdown("**History**")
    st.dataframe(history(commitment_id), hide_index=True, width="stretch")


def district_section(district: str) -> None:
    """The district briefing's commitments, for signed-in staff only (nothing otherwise)."""
    if not can_see():
        return
    st.subheader(f"Commitments in {md(district)} (staff only)")
    found = judged(district=district)
    if not found:
        st.caption("No commitment has been recorded for this district. Staff record them on the "
                   "Commitments page or the scorecards.")
        return
    st.caption("Shown only to signed-in staff; visitors see the briefing without this section.")
    table(found, key="district_commitments",
          columns=["Status", "Department", "Request type", "Figure", "Target", "Due", "Now",
                   "Trend", "Owner"])
