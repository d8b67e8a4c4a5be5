"""Trends: requests per week or month against the same weeks a year earlier, the on-time rate
and median days to close week by week against the target, how long requests took to close, and
the backlog of open requests over time."""

import streamlit as st

from civicstat.core import figures, privacy
from civicstat.web import chart_images, charts, data, targets, ui

info, filters = ui.public_page("Trends", data.public_start())
k = int(info["k"])
image = chart_images.context(info, filters)  # every chart: a titled PNG for newsletters

st.header("How many requests, and how that compares with a year earlier")
COMPARE = {
    "all": "All requests",
    "request_type": "Request types",
    "category": "Categories",
    "channel": "Channels",
}
left, right = st.columns([1, 2])
with left:
    grain = ui.url_choice(
        "Count per", ["week", "month"], "week", format_func=str.title, key="grain"
    )
with right:
    compare = ui.url_choice(
        "Compare", list(COMPARE), "all", format_func=COMPARE.get, key="compare"
    )

volume_params = filters.params("start", "end")
if compare == "all":
    series = {"All requests": data.public_query("volume_over_time", grain=grain, **volume_params)}
else:
    busiest = data.public_query(
        "breakdown", group_by=compare, **filters.params("start", "end", "prev_start")
    )
    choices = ui.options_for(
        data.public_query("filter_options"), compare, filters.dimensions.get("department")
    )
    chosen = st.multiselect(
        f"{COMPARE[compare]} to compare (up to 6)",
        choices,
        default=[v for v in busiest["group_value"].head(3) if v in choices],
        max_selections=6,
        key="series",
        bind="query-params",
    )
    series = {
        value: data.public_query("volume_over_time", grain=grain, **{**volume_params, compare: value})
        for value in chosen
    }
if not series:
    st.info(f"Choose one or more {COMPARE[compare].lower()} to compare.")
else:
    ui.volume_chart(series, grain, k, image=image)

st.header("On time and days to close, week by week, against the target")
targets.over_time(
    data.public_query("weekly_on_time", **filters.params("start", "end")),
    filters.dimensions.get("department"), filters.dimensions.get("request_type"), k, image=image,
)

st.header("How long requests took to close")
kpis = data.public_query(
    "overview_kpis", **filters.params("start", "end", "prev_start")
).set_index("period")
current = kpis.loc["current"]
bands = data.public_query("days_to_close_distribution", **filters.params("start", "end"))
closed = privacy.basis_of("median_days_to_close", current)  # created in the period, closed since
if closed == 0:
    st.info("No request created in this period has been closed yet.")
elif not privacy.is_shown("median_days_to_close", closed, k):
    st.info(f"Fewer than {k} requests created in this period have been closed: too few to chart.")
else:
    st.markdown(
        f"Of the {figures.count(closed, k, 'count_with_days_to_close')} requests made in the "
        "period and closed since, half were closed within "
        f"**{figures.cell('median_days_to_close', current, k)}** and nine in ten "
        f"within **{figures.cell('p90_days_to_close', current, k)}**."
    )
    chart_images.show(charts.days_to_close_bands(bands, k), "How long requests took to close",
                      image)
    ui.data_table(
        bands,
        {"band_label": ("Days to close", "text"), "count_requests": ("Requests", "count"),
         "share_of_closed": ("Share of closed requests", "rate")},
        k,
    )

st.header("Open requests over time")
step = "day" if filters.period.days <= 92 else "week"
backlog = data.public_query("backlog_over_time", grain=step, **filters.params("start", "end"))
st.markdown(
    f"Requests still open at the end of each {step}, and those of them already past their due "
    "date. A rising line means requests arrive faster than they are closed."
)
chart_images.show(charts.backlog_over_time(backlog, k), f"Open requests at the end of each {step}",
                  image)
ui.data_table(
    backlog,
    {"last_day": ("At the end of", "date"), "count_open": ("Open", "count"),
     "count_overdue": ("Open and past due", "count")},
    k,
)
ui.suppression_note(k)
