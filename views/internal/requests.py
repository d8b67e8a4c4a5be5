"""Request explorer: find requests by id, type, department, district, status, date and address;
see one whole, compared with the typical time for its type; map the results; export them."""

import streamlit as st

from civicstat.core import explorer
from civicstat.web import data, maps, staff_ui, ui

info = staff_ui.staff_page("Request explorer")
filters = ui.sidebar_filters(
    info, data.internal_query("filter_options"), ("department", "request_type", "district", "channel")
)
boxes = st.columns([1, 2, 1])
request_id = boxes[0].text_input("Request id", max_chars=100, key="request_id",
                                 bind="query-params", placeholder="exact id",
                                 help="Looks up one request, whatever the other filters say")
address = boxes[1].text_input("Address contains", max_chars=100, key="address",
                              bind="query-params", placeholder="e.g. Aspen Way",
                              help="Any part of the address, upper or lower case")
with boxes[2]:
    status = ui.url_choice("Status", ["open", "closed"], None, key="status", widget=st.selectbox,
                           placeholder="Any")

params = explorer.search_params(filters, request_id=request_id, address=address, status=status)
found = data.internal_query("requests_search", **params)
count = explorer.count_in_all(found)
searched = ui.md(f"request id {params['request_id']}") if params["request_id"] else (
    ui.md(filters.describe()) + " (created in the period)"
    + (f" · status {status}" if status else "")
    + (f" · address contains “{ui.md(params['address'])}”" if params["address"] else "")
)
st.caption(
    f"**{count:,}** {'request matches' if count == 1 else 'requests match'} {searched}"
    + (f"; the newest {explorer.MAX_LISTED:,} are listed and mapped" if
       count > explorer.MAX_LISTED else "")
    + (f", and the newest {explorer.MAX_EXPORTED:,} downloaded" if
       count > explorer.MAX_EXPORTED else "")
    + ". Duplicates are included here (their closure says so)."
)
if not count:
    st.info("No request matches. Widen the period or clear a filter.")
    st.stop()

card = st.container()  # filled once the list below says which request to show
list_tab, map_tab = st.tabs(["List", "Map"])
with list_tab:
    st.caption("Select a row to see the request whole above the list.")
    picked = staff_ui.request_list(found, key="results")
    staff_ui.download_csv(
        found if count <= explorer.MAX_LISTED else lambda: data.internal_query(
            "requests_search", **(params | {"limit": explorer.MAX_EXPORTED})),
        "Download these requests (CSV)", "requests.csv", key="results_csv",
        exclude=("count_matching",))
with map_tab:
    deck, legend = maps.request_points(found, data.internal_query("district_outlines"))
    st.pydeck_chart(deck, height=560, width="stretch")
    ui.legend(legend, "Requests")
    st.caption("Requests without coordinates are not on the map. Hover a dot for its id and address.")

show = picked or (params["request_id"] if count == 1 else None)
if show:
    shown = data.internal_query("requests_search", **explorer.lookup_params(filters, show))
    typical = data.internal_query("type_typical_times")
    with card:
        staff_ui.request_card(shown.iloc[0], explorer.typical_for(typical, shown.iloc[0]["request_type"]))
        st.divider()
