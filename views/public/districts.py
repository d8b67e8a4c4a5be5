"""District briefing for council meetings: one district beside the city and the previous period,
its top request types, its biggest changes, a map, a presentation mode and a PDF brief."""

import pandas as pd
import streamlit as st

from civicstat.exports import brief_pdf
from civicstat.web import chart_images, commitments, data, maps, ui

info, filters = ui.public_page(
    "District briefing", data.public_start(),
    dimensions=("department", "category", "request_type", "channel"),
)
k = int(info["k"])
options = data.public_query("filter_options")
district_names = ui.options_for(options, "district", None)
if not district_names:
    st.info("This city has no council districts configured.")
    st.stop()

left, right = st.columns([2, 1], vertical_alignment="bottom")
with left:
    # never None: a page opened without its URL state still briefs on the first district
    district = ui.keyed_choice(  # the URL keeps the district's key; people see its label
        "District", district_names, district_names[0], key="district",
        format_func=data.district_labels().label,
    )
with right:
    present = st.toggle("Presentation mode (large type)", key="present", bind="query-params")
if present:
    ui.presentation_style()

brief = data.district_brief(filters, district)
previous = f"previous {brief.period_days} days"

st.header(ui.md(brief.title))
st.markdown(
    f"{ui.md(brief.filters_text)}, **{ui.md(brief.period_dates)}**, compared with the previous "
    f"period, **{ui.md(brief.previous_dates)}**, and with the whole city."
)
rows = [(kpi.label, *kpi.shown(k), *kpi.beside(k)) for kpi in brief.kpis]
for start in range(0, len(rows), 3):  # rows of three tiles: on a phone they stack in order
    for column, (label, value, _, change, city, last_year, average) in zip(
        st.columns(3), rows[start:start + 3], strict=False
    ):
        column.metric(
            label, value, delta=None if change == "–" else change,
            delta_color="inverse" if "days" in label or label.startswith("Open") else (
                "off" if "Requests" in label else "normal"),
            help=(f"Change against the {previous}. City: {city}. Same period last year: "
                  f"{last_year}. 365-day average: {average}."),
            border=True,
        )
st.table(
    pd.DataFrame(
        [(label, value, before, change, last_year, average, city)
         for label, value, before, change, city, last_year, average in rows],
        columns=["Figure", brief.name, f"Previous {brief.period_days} days", "Change",
                 "Same period last year", "365-day average", "City"],
    ).set_index("Figure")
)
st.markdown("\n".join(f"- **{what}**: {ui.md(dates)}" for what, dates in brief.periods()))
st.caption(ui.md(brief.average_note))

st.subheader(f"How {ui.md(brief.name)} compares")
st.markdown("\n".join(f"- {ui.md(sentence)}" for sentence in brief.standing))

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Top request types")
    ui.top_request_types(brief.top_types, k, image=chart_images.context(
        info, filters, large=present, district=district))
with right:
    st.subheader("Biggest changes")
    st.markdown(f"Request types with the largest change in requests against the {previous}.")
    lines = [f"- ▲ {ui.md(s)}" for s in brief.increases]
    lines += [f"- ▼ {ui.md(s)}" for s in brief.decreases]
    st.markdown("\n".join(lines) or "No request type changed by much.")

st.subheader(f"Where requests come from in {ui.md(brief.name)}")
cells = data.public_query(
    "density_cells", cell_km=0.25, **filters.params("start", "end", without=("district",)),
    district=district,
)
if cells.empty:
    st.info("No requests with a location match these filters in this period.")
else:
    deck, legend_items = maps.density_hexagons(
        cells, brief.districts, 0.25, k, focus=district, style=data.map_style()
    )
    st.pydeck_chart(
        deck, height=480, width="stretch",
        alt=f"Map of {brief.name}: requests per hexagon. The table below gives the numbers.",
    )
    ui.legend(legend_items, "Requests per hexagon")
    ui.hexagon_table(cells, k)

commitments.district_section(district)  # signed-in staff only: nothing for a visitor

st.download_button(
    "Download brief (PDF)",
    data=lambda: brief_pdf.brief_pdf(brief),
    file_name=brief_pdf.brief_file_name(brief),
    mime="application/pdf",
    icon=":material/picture_as_pdf:",
    type="primary",
    on_click="ignore",
)
ui.suppression_note(k)
