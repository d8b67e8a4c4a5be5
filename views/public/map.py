"""Map: the districts coloured by a chosen figure, and where requests come from as hexagons
counted on the server (the browser gets at most 50,000 hexagons, never request points)."""

import streamlit as st

from civicstat.web import data, maps, ui

info, filters = ui.public_page("Where requests come from", data.public_start())
k = int(info["k"])

st.header("Districts")
districts = data.district_summary(filters)
ui.district_map(
    districts, filters, k, default_metric="count_requests", height=520, key="district_map"
)

st.header("Request density")
CELL_SIZES = {"250 m": 0.25, "500 m": 0.5, "1 km": 1.0}  # hexagon size: centre to corner
size = ui.url_choice("Hexagon size (centre to corner)", list(CELL_SIZES), "500 m", key="hex")
cell_km = CELL_SIZES[size]
cells = data.public_query("density_cells", cell_km=cell_km, **filters.params("start", "end"))
if cells.empty:
    st.info("No requests with a location match these filters in this period.")
else:
    deck, legend_items = maps.density_hexagons(
        cells, districts, cell_km, k, focus=filters.dimensions.get("district"),
        style=data.map_style(),
    )
    st.pydeck_chart(deck, height=560, width="stretch", key="density_map")
    ui.legend(legend_items, "Requests per hexagon")
    st.caption(
        "Each hexagon counts the requests made inside it in the period. Locations are rounded "
        "to about 100 m before publication, and some sensitive request types are published "
        "without a location, so they are not on this map."
    )
    ui.hexagon_table(cells, k)
ui.suppression_note(k)
