"""Backlog: the requests open now, by age, by department, request type or district; and the
overdue requests, most overdue first, with how late each one is."""

import streamlit as st

from civicstat.core import methodology
from civicstat.web import charts, data, staff_ui, ui

info = staff_ui.staff_page("Backlog")
filters = ui.sidebar_filters(
    info, data.internal_query("filter_options"),
    ("department", "request_type", "district", "channel"), period=False,
)
chosen = filters.describe(period=False)
st.caption(
    f"Requests open at {filters.as_of:%d %B %Y, %H:%M}"
    + (f" · {ui.md(chosen)}" if chosen else "")
    + ". Age counts whole days since the request was made; overdue means open and past its due date."
)

GROUPS = {"department": "Department", "request_type": "Request type", "district": "District"}
by = ui.url_choice("Group by", list(GROUPS), "department", format_func=GROUPS.get, key="by")
aging = data.internal_query("backlog_aging", by=by, **filters.params("as_of"))
if aging.empty:
    st.info("No open requests match these filters.")
    st.stop()
staff_ui.backlog_tiles(aging)
total = aging[aging["is_total"]].iloc[0]
stale = methodology.stale_backlog_note(int(total["count_open"]), int(total["count_age_over_365"]))
if stale:
    st.warning(stale, icon=":material/history:")

st.subheader(f"Open requests by age, by {GROUPS[by].lower()}")
st.plotly_chart(charts.aging_bars(aging), width="stretch", config={"displayModeBar": False})
st.caption("The 20 largest backlogs; the table has them all.")
staff_ui.aging_table(aging, GROUPS[by], "All open requests")

st.subheader("Overdue requests, most overdue first")
overdue = data.internal_query("overdue_requests", limit=1000, **filters.params("as_of"))
staff_ui.open_in_explorer(staff_ui.overdue_list(overdue, key="overdue"))
