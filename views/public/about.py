"""How we measure: each figure's definition, when the data was last updated and where it comes
from, the service targets, and the privacy rules as this snapshot applies them."""

import pandas as pd
import streamlit as st

from civicstat.core import methodology
from civicstat.core.privacy import COORDINATE_DECIMALS
from civicstat.exports import opendata
from civicstat.web import data, ui

info, filters = ui.public_page("How we measure", data.public_start(), dimensions=())
k = int(info["k"])

st.header("What the numbers mean")
st.markdown(f"{methodology.AS_OF} {methodology.DUPLICATES}")
st.markdown("\n".join(f"- **{name}**: {text}" for name, text in methodology.DEFINITIONS))

st.header("Where the data comes from")
as_of, built = pd.Timestamp(info["as_of"]), pd.Timestamp(info["built_at"])
st.markdown(
    f"- Data as of **{as_of:%A %d %B %Y, %H:%M}** ({ui.md(info['timezone'])}).\n"
    f"- Published **{built:%d %B %Y, %H:%M}** UTC; snapshot `{info['version']}`.\n"
    f"- {int(info['count_requests']):,} requests in the city's records."
)
ui.data_table(
    data.public_query("sources"),
    {"source": ("Source", "text"), "count_requests": ("Requests", "count"),
     "first_created_at": ("First request", "date"), "last_created_at": ("Last request", "date")},
    k, expander=None,
)

st.header("Privacy, as applied to this data")
catalog = data.public_query("request_type_catalog")
sensitive = catalog[catalog["privacy_tier"].notna()]
st.markdown(
    f"- Published columns only: {', '.join(opendata.data_dictionary()['column'])}. "
    f"Never published: {', '.join(opendata.withheld_columns())}.\n"
    f"- Locations are rounded to {COORDINATE_DECIMALS} decimals of a degree (about 100 m).\n"
    + "".join(f"{line}\n" for line in methodology.small_numbers(k))
    + f"- {len(sensitive)} request types are sensitive: "
    + ("; ".join(
        f"{ui.md(row.request_type)} ({methodology.PRIVACY_TIERS.get(row.privacy_tier, '')})"
        for row in sensitive.itertuples()
    ) or "none")
    + "."
)
totals = data.public_query(
    "aggregate_only_totals", start=filters.period.start, end=filters.period.end
)
if not totals.empty:
    st.markdown(
        f"Requests of types published only as city-wide counts, {filters.period.label.lower()} "
        "(by month: months that overlap the period count whole). They are left out of every "
        "other figure on the public pages."
    )
    ui.data_table(
        totals,
        {"request_type": ("Request type", "text"), "department": ("Department", "text"),
         "count_requests": ("Requests", "count")},
        k, expander=None,
    )

st.header("Service targets")
st.markdown(
    "Each request type has a service target: the time the city aims to close it in. It sets the "
    "due date when the source has none."
)
ui.data_table(
    catalog.assign(target=catalog["target_hours"].map(methodology.target_text)),
    {"department": ("Department", "text"), "category": ("Category", "text"),
     "request_type": ("Request type", "text"), "target": ("Target", "text")},
    k, expander="Show all service targets",
)
