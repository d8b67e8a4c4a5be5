"""Map: the districts coloured by a chosen figure, and where requests come from as hexagons
counted on the server (the browser gets at most 50,000 hexagons, never request points)."""

import streamlit as st

from civicstat import data, maps, ui

info, filters = ui.public_page("Where requests come from")
k = int(info["k"])

st.header("Districts")
districts = data.public_query(
    "district_summary", **filters.params("start", "end", without=("district",))
)
if districts.empty:
    st.info("This city has no district boundaries configured.")
else:
    metric = ui.district_metric_picker(districts, default="count_requests")
    deck, legend_items = maps.district_choropleth(
        districts, metric, highlight=filters.dimensions.get("district"), k=k
    )
    st.pydeck_chart(deck, height=520, width="stretch", key="district_map")
    ui.legend(legend_items, metric.label)
    ui.data_table(districts, ui.DISTRICT_COLUMNS, k)

st.header("Request density")
CELL_SIZES = {"250 m": 0.25, "500 m": 0.5, "1 km": 1.0}  # hexagon size: centre to corner
size = st.segmented_control(
    "Hexagon size (centre to corner)", list(CELL_SIZES), default="500 m",
    key="hex", bind="query-params", required=True,
)
cell_km = CELL_SIZES[size]
cells = data.public_query("density_cells", cell_km=cell_km, **filters.params("start", "end"))
if cells.empty:
    st.info("No requests with a location match these filters in this period.")
else:
    deck, legend_items = maps.density_hexagons(
        cells, districts, cell_km, k, focus=filters.dimensions.get("district")
    )
    st.pydeck_chart(deck, height=560, width="stretch", key="density_map")
    ui.legend(legend_items, "Requests per hexagon")
    st.caption(
        "Each hexagon counts the requests made inside it in the period. Locations are rounded "
        "to about 100 m before publication, and some sensitive request types are published "
        "without a location, so they are not on this map."
    )
    ui.data_table(
        cells.round({"center_lat": 4, "center_lon": 4}),
        {"center_lat": ("Centre latitude", "text"), "center_lon": ("Centre longitude", "text"),
         "count_requests": ("Requests", "count"),
         "median_days_to_close": ("Median days to close", "days")},
        k, expander="Show the data (busiest hexagons first)",
    )
ui.suppression_note(k)
