"""CivicStat's router: decide which pages this visitor may see, register only those, run one."""

import streamlit as st

from civicstat.web import auth
from civicstat.web.pages import pages_for

st.set_page_config(page_title="CivicStat", page_icon=":material/analytics:", layout="wide")
identity = auth.resolve()  # anonymous, staff or admin; ends an idle sign-in
auth.watch_idle(identity)
st.navigation(pages_for(identity.role), position="top").run()
