"""CivicStat's router: decide which pages this visitor may see, register only those, run one."""

import streamlit as st

from civicstat.pages import pages_for

st.set_page_config(page_title="CivicStat", page_icon=":material/analytics:", layout="wide")
role = "anonymous"  # staff login arrives with the internal view
st.navigation(pages_for(role), position="top").run()
