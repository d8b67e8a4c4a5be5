"""Overview: how many requests, how fast they close, how many are on time, how many are open."""

import pandas as pd
import streamlit as st

from civicstat import charts, data, maps, ui
from civicstat.snapshots import SnapshotMissing

try:
    info = data.public_info()
except SnapshotMissing as missing:
    st.error(f"No published data yet. {missing}")
    st.stop()

st.title(f"{info['city_name']}: how the city responds to service requests")
filters = ui.sidebar_filters(
    info, data.public_query("filter_options"), ("department", "district")
)
as_of = pd.Timestamp(info["as_of"])
st.caption(
    f"Data as of **{as_of:%A %d %B %Y, %H:%M}** ({info['timezone']}). "
    f"Showing {filters.describe()}, compared with the {filters.period.days} days before."
)

kpis = data.public_query(
    "overview_kpis", **filters.params("start", "end", "prev_start")
).set_index("period")
ui.kpi_tiles(kpis.loc["current"], kpis.loc["previous"], filters.period.days)

st.subheader("Requests opened and closed each week")
weeks = data.public_query("weekly_opened_closed", **filters.params("start", "end"))
if weeks["count_opened"].sum() == 0 and weeks["count_closed"].sum() == 0:
    st.info("No requests match these filters in this period.")
else:
    st.plotly_chart(
        charts.opened_closed_weekly(weeks), width="stretch", config={"displayModeBar": False}
    )
    st.caption("Hollow markers: weeks only partly inside the period.")
    ui.show_data(
        weeks.rename(columns={
            "week_start": "Week starting", "count_opened": "Opened",
            "count_closed": "Closed", "count_days_in_period": "Days in period",
        })
    )

st.subheader("By district")
METRICS = {
    "count_requests": maps.MapMetric("count_requests", "Requests", ",.0f"),
    "requests_per_1000_residents": maps.MapMetric(
        "requests_per_1000_residents", "Requests per 1,000 residents", ",.1f"
    ),
    "median_days_to_close": maps.MapMetric(
        "median_days_to_close", "Median days to close", ".1f", lower_is_better=True
    ),
    "on_time_rate": maps.MapMetric("on_time_rate", "On-time rate", ".0%"),
    "count_open_at_end": maps.MapMetric(
        "count_open_at_end", "Open at end of period", ",.0f", lower_is_better=True
    ),
}
districts = data.public_query(
    "district_summary", **filters.params("start", "end", without=("district",))
)
if districts.empty:
    st.info("This city has no district boundaries configured.")
else:
    if districts["population"].isna().all():
        METRICS.pop("requests_per_1000_residents")
    metric_key = st.segmented_control(
        "Colour districts by",
        list(METRICS),
        default="median_days_to_close",
        format_func=lambda key: METRICS[key].label,
        key="map_metric",
        bind="query-params",
        required=True,
    )
    metric = METRICS[metric_key]
    deck, legend_items = maps.district_choropleth(
        districts, metric, highlight=filters.dimensions.get("district")
    )
    st.pydeck_chart(deck, height=480, width="stretch")
    ui.legend(legend_items, metric.label)
    ui.show_data(
        districts.drop(columns=["center_lat", "center_lon", "geometry_json"]).rename(columns={
            "district": "District", "population": "Population",
            "count_requests": "Requests", "median_days_to_close": "Median days to close",
            "on_time_rate": "On-time rate", "count_open_at_end": "Open at end of period",
            "requests_per_1000_residents": "Requests per 1,000 residents",
        })
    )
