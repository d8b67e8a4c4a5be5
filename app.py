"""CivicStat's router: decide which pages this visitor may see, register only those, run one."""

import streamlit as st

from civicstat.pages import public_pages

st.set_page_config(page_title="CivicStat", page_icon=":material/analytics:", layout="wide")
st.navigation(public_pages(), position="top").run()
