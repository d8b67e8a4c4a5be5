"""Open data: download the filtered public records (CSV or Parquet) and their data dictionary."""

import streamlit as st

from civicstat.core import figures
from civicstat.exports import opendata
from civicstat.exports.formats import FORMATS
from civicstat.web import data, open_data_route, ui

info, filters = ui.public_page(
    "Open data", data.public_start(),
    lede="Every public request record behind this dashboard, for the period and filters you "
    "choose in the sidebar. Street addresses, residents' descriptions and staff notes are never "
    "published; locations are rounded to about 100 m.",
)
k = int(info["k"])

summary = data.public_query("open_data_summary", **filters.params("start", "end"))
total = int(summary["count_records"].sum())
duplicates = int(summary["count_duplicates"].sum())
if total == 0:
    st.info("No records match these filters in this period.")
else:
    st.markdown(
        f"**{figures.count(total, k, 'count_records')} records** match: {ui.md(filters.describe())}."
        + (f" {figures.count(duplicates, k, 'count_records')} of them are marked as duplicates of "
           "another request: the records keep them, the dashboard's figures leave them out, so "
           "the other pages count fewer requests." if duplicates else "")
        + (f" A download holds the first {opendata.MAX_ROWS:,} of them; narrow the filters for "
           "the rest." if total > opendata.MAX_ROWS else "")
    )

    # Plain links to the files (web/open_data_route.py): made when fetched, never lost between
    # the click and the fetch, and an address a script can use.
    columns = st.columns(len(FORMATS))
    for column, (kind, form) in zip(columns, FORMATS.items(), strict=True):
        column.link_button(
            f"Download {form.label}", open_data_route.url_for(kind, filters),
            icon=":material/download:", width="stretch",
            help=f"{open_data_route.file_name(kind, filters)}: the records above as a file",
        )
    st.caption(
        "The same files for scripts: `_civicstat/open-data/requests.csv?from=YYYY-MM-DD&"
        "to=YYYY-MM-DD` on this site's address, with any of department, district, category, "
        "request_type and channel."
    )
    st.header("What the records hold, by request type")
    ui.data_table(
        summary,
        {"request_type": ("Request type", "text"), "department": ("Department", "text"),
         "count_records": ("Records", "count"), "count_with_location": ("With a location", "count")},
        k, expander=None,
    )

st.header("Data dictionary")
st.table(opendata.data_dictionary().set_index("column"))
st.download_button(
    "Download the data dictionary (CSV)",
    data=opendata.data_dictionary_csv(),
    file_name="data-dictionary.csv",
    mime=FORMATS["csv"].mime,
    on_click="ignore",
)
st.caption(
    "Never published: " + ", ".join(opendata.withheld_columns()) + ". Request types the city "
    "treats as sensitive are published without a location, or only as city-wide counts "
    "([How we measure](/about))."
)
ui.suppression_note(k)
