"""Look up my request: a resident enters a request number and sees its public status, type,
department, dates, whether it was closed by its due date and how long requests like it usually
take (civicstat.core.lookup). The number is in the URL (?id=...), so a link can be shared."""

import streamlit as st

from civicstat.core import lookup
from civicstat.web import data, ui

info, _ = ui.public_page(
    "Look up my request", data.public_start(), filters=False,
    lede="Enter the number you were given when you made your request (by phone, on the web or "
         "in the app) to see where it stands.",
)

requested, problem = lookup.clean_id(st.query_params.get("id"))
with st.form("lookup", border=False):
    typed = st.text_input(
        "Request number", value=requested or "", max_chars=lookup.MAX_ID_LENGTH,
        placeholder="for example 12345",
    )
    submitted = st.form_submit_button("Look up", type="primary", icon=":material/search:")
if submitted:
    requested, problem = lookup.clean_id(typed)
    if requested:
        st.query_params["id"] = requested  # the link to this request, to share or bookmark
    else:
        st.query_params.pop("id", None)

if problem:
    st.warning(problem)
elif requested:
    found = lookup.look_up(requested, info, data.public_query)
    if found is None:
        st.subheader("Not found")
        st.info(f"Request number **{ui.md(requested)}**: {lookup.NOT_FOUND}")
    else:
        st.subheader(f"Request number {ui.md(found.request_id)}")
        st.markdown("\n".join(f"- **{what}**: {ui.md(value)}" for what, value in found.facts))
        st.subheader("How long requests like this usually take")
        st.markdown(ui.md(found.typical))
        st.caption(
            "Only the public record is shown: never the address or the words of the request. "
            "Some kinds of request are not published one by one, and some without a location. "
            "Copy this page's address to share or come back to this request."
        )
