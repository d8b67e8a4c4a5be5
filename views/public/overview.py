"""Overview: how many requests, how fast they close, how many are on time, how many are open;
what people asked for, which departments are on time, and how the districts compare."""

import streamlit as st

from civicstat.core import methodology
from civicstat.web import chart_images, charts, data, targets, ui

info, filters = ui.public_page(
    "{city}: how the city responds to service requests", data.public_start()
)
k = int(info["k"])
image = chart_images.context(info, filters)  # every chart: a titled PNG for newsletters
st.caption(
    f"Each figure is compared with the {filters.period.days} days before. "
    "[How we measure](/about)"
)

kpis = data.public_query(
    "overview_kpis", **filters.params("start", "end", "prev_start")
).set_index("period")
ui.kpi_tiles(kpis.loc["current"], kpis.loc["previous"], filters.period.days, k=k)

st.header("Requests opened and closed each week")
weeks = data.public_query("weekly_opened_closed", **filters.params("start", "end"))
if weeks["count_opened"].sum() == 0 and weeks["count_closed"].sum() == 0:
    st.info("No requests match these filters in this period.")
else:
    chart_images.show(charts.opened_closed_weekly(weeks, k),
                      "Requests opened and closed each week", image)
    st.caption("Hollow markers: weeks only partly inside the period.")
    ui.data_table(
        weeks,
        {"week_start": ("Week starting", "date"), "count_opened": ("Opened", "count"),
         "count_closed": ("Closed", "count"), "count_days_in_period": ("Days in period", "text")},
        k,
    )

breakdown_params = filters.params("start", "end", "prev_start")
left, right = st.columns(2, gap="large")
with left:
    st.header("What people asked for")
    st.caption("The ten most requested types in the period.")
    ui.top_request_types(
        data.public_query("breakdown", group_by="request_type", **breakdown_params), k,
        image=image,
    )
with right:
    st.header("Which departments close requests on time")
    st.caption(f"Of the {methodology.ON_TIME_SCOPE}, the share each department closed by the "
               "due date, against the department's goal.")
    in_words = targets.on_time_by_department(
        data.public_query("breakdown", group_by="department", **breakdown_params), k,
        image=image,
    )
if in_words:
    st.markdown("**On time, in plain words**")
    ui.bullets(in_words, columns=2)

with st.expander("Each request type against its target time"):
    st.caption("Each request type has a target time; the share closed within it is compared "
               "with its department's goal.")
    targets.request_types_against_targets(
        data.public_query("breakdown", group_by="request_type", **breakdown_params),
        data.public_query("request_type_catalog"), k,
    )

st.header("By district")
ui.district_map(
    data.district_summary(filters), filters, k, default_metric="median_days_to_close", height=480
)
ui.suppression_note(k)
