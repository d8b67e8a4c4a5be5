"""Department scorecards: every department against its targets; select one to see its request
types, and a type to see its requests."""

import streamlit as st

from civicstat.core import explorer, scorecard
from civicstat.core.city import city_dir_from_env
from civicstat.core.filters import natural_key
from civicstat.web import charts, commitments, data, staff_ui, ui

info = staff_ui.staff_page("Department scorecards")
filters = ui.sidebar_filters(
    info, data.internal_query("filter_options"), ("department", "request_type", "district", "channel")
)
department = filters.dimensions.get("department")
request_type = filters.dimensions.get("request_type")
level = "request_type" if department or request_type else "department"


def drill(**choice: str | None) -> None:
    """Set the drill-down filters (they live in the URL like every other filter)."""
    for name, value in choice.items():
        st.session_state[name] = value


crumbs = st.columns([1, 1, 1, 3])
crumbs[0].button("All departments", icon=":material/arrow_upward:", disabled=level == "department",
                 on_click=drill, kwargs={"department": None, "request_type": None})
if department:
    crumbs[1].button(ui.md(department), icon=":material/arrow_upward:", disabled=not request_type,
                     on_click=drill, kwargs={"request_type": None})
st.caption(
    f"{ui.md(filters.describe())}, compared with the {filters.period.days} days before. "
    "Click a row to drill down; click a column heading to sort."
)

frame = data.internal_query(
    "scorecard", level=level, **filters.params("start", "end", "prev_start", "as_of")
)
goals = scorecard.load_goals(city_dir_from_env())
scored = scorecard.score_frame(frame, level, goals)
if not scorecard.has_requests(scored):
    st.info("No requests match these filters in this period.")
    st.stop()

promised = commitments.judged(department=department)
scored["commitments"] = commitments.row_summaries(scored, level, promised)

name_label = "Department" if level == "department" else "Request type"
if not scorecard.has_targets(scored):  # an empty chart would say nothing
    st.info(scorecard.NO_TARGETS_NOTE)
elif not request_type:  # one bar says nothing the table does not
    st.subheader(f"Score against target, by {name_label.lower()}")
    st.plotly_chart(
        charts.score_bars(scored, scorecard.AMBER_FLOOR),
        width="stretch", config={"displayModeBar": False},
    )
total_label = "All departments" if level == "department" else f"All {department or 'these'} types"
staff_ui.scorecard_table(
    scored, name_label=name_label, total_label=total_label, key=f"scorecard_{level}",
    on_select=(lambda key: drill(department=key, request_type=None)) if level == "department"
    else (lambda key: drill(request_type=key)),
)
with st.expander("How targets are set and what the figures mean"):
    st.markdown(scorecard.METHOD_NOTE)

if department or request_type:  # the overdue requests of what is chosen, on the Backlog page
    total_row = scored[scored["is_total"]].iloc[0]
    st.page_link(
        "views/internal/backlog.py", icon=":material/schedule:",
        label=f"The {int(total_row['count_overdue']):,} overdue requests of "
              f"{ui.md(request_type or department)}, most overdue first",
        query_params={name: value for name, value in filters.dimensions.items() if value},
    )

st.subheader("Where: departments by district")
where_metric = ui.url_choice(
    "Figure", list(scorecard.GRID_METRICS), "on_time_rate", key="where",
    format_func=lambda m: scorecard.GRID_METRICS[m][0],
)
by_district = data.internal_query(
    "department_by_district", **filters.params("start", "end"))
if by_district.empty:
    st.caption("No requests match these filters in this period.")
else:
    grids = scorecard.district_grid(
        by_district, where_metric, goals,
        sorted(by_district["district"].unique(), key=natural_key))
    staff_ui.district_grid_table(grids, where_metric, key="where_grid")
    st.caption("Requests created in the period. On-time cells are coloured against the "
               "department's goal as on the scorecard (● on target, ◐ near, ○ off); "
               f"{scorecard.FEW_MARK}: fewer than {scorecard.FEW_REQUESTS} requests behind the "
               "figure. An empty cell: no request.")

st.subheader(f"Commitments of {ui.md(department)}" if department else "Commitments")
if request_type:
    promised = [j for j in promised if j.commitment.request_type in (None, request_type)]
if promised:
    commitments.table(promised, key="scorecard_commitments")
else:
    st.caption("No commitment recorded" + (f" for {ui.md(department)}." if department else "."))
with st.expander("Record a commitment", icon=":material/add_task:"):
    commitments.record_form(
        data.internal_query("filter_options"), ui.options_for, key="scorecard_record",
        department=department, request_type=request_type, **filters.dimension_params(
            without=("department", "request_type", "category")),
    )

if request_type:
    st.subheader(f"Requests of {ui.md(request_type)} created in the period")
    found = data.internal_query("requests_search", **explorer.search_params(
        filters, include_duplicates=False, limit=5000))  # as counted on the scorecard
    total = explorer.count_in_all(found)
    st.caption(f"{total:,} requests, newest first" + (" (the first 5,000 shown)" if total > 5000 else "")
               + ". Select one to open it in the request explorer.")
    staff_ui.open_in_explorer(staff_ui.request_list(found, key="scorecard_requests"))
