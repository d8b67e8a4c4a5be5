"""Commitments: what departments committed to at CitiStat meetings, and how the published data
judges each one now; record, edit, close, and every change kept."""

import streamlit as st

from civicstat.core import commitments as rules
from civicstat.web import commitments, data, staff_ui, ui

info = staff_ui.staff_page(
    "Commitments",
    "What departments committed to at the meetings, checked against the published data: "
    "**on track** or **at risk** until the due date, then **met** or **missed**.",
)
options = data.internal_query("filter_options")
with st.sidebar:
    st.header("Filters")
    department = ui.url_choice("Department", ui.options_for(options, "department", None), None,
                               key="department", widget=st.selectbox, placeholder="All")
    district = ui.url_choice("District", ui.options_for(options, "district", None), None,
                             key="district", widget=st.selectbox, placeholder="All")
    status = ui.url_choice("Status", rules.STATUSES, None, key="status", widget=st.selectbox,
                           placeholder="All", format_func=rules.STATUS_LABELS.get)

with st.expander("Record a commitment", icon=":material/add_task:"):
    commitments.record_form(options, ui.options_for, key="record_commitment",
                            department=department, district=district)

found = commitments.judged(department=department, district=district)
if status:
    found = [j for j in found if j.status == status]
counts = {s: sum(j.status == s for j in found) for s in rules.STATUSES}
tiles = st.columns(4)
for column, name in zip(tiles, ("on_track", "at_risk", "met", "missed"), strict=True):
    column.metric(rules.STATUS_LABELS[name], counts[name], border=True)
if not found:
    st.info("No commitment matches these filters.")
else:
    st.caption(f"{len(found)} commitments. Select one to edit or close it and see its history.")
    picked = commitments.table(found, key="commitments_table", select=True)
    if picked is None:  # ?commitment=<id> opens one (a link from a packet or a message)
        picked = commitments.from_url(st.query_params.get("commitment"), found)
    if picked is not None:
        st.subheader("Edit, close, history")
        commitments.edit_panel(picked, options, ui.options_for)
with st.expander("How a commitment's status is worked out"):
    st.markdown(rules.METHOD_NOTE)
