"""CivicStat's router: decide which pages this visitor may see, register only those, run one.

Streamlit runs this file once per visit and interaction (as __main__). `streamlit run app.py`
also imports it once to find the server to start: Streamlit's own, plus the endpoint that sets
the sign-in cookie (civicstat.web.session_routes) and the open-data files
(civicstat.web.open_data_route)."""

import streamlit as st

if __name__ == "__main__":  # a script run: route this visitor
    from civicstat.web import auth, ui
    from civicstat.web.pages import pages_for

    # The favicon is an emoji (drawn by the browser from a data: URL): a ":material/...:" icon
    # is fetched from fonts.gstatic.com, and no public page asks a third party for anything.
    st.set_page_config(page_title="CivicStat", page_icon="📊", layout="wide")
    identity = auth.resolve()  # anonymous, staff or admin; ends an idle sign-in
    auth.watch_idle(identity)
    auth.keep_signed_in()  # after a built-in sign-in: the browser gets its cookie
    page = st.navigation(pages_for(identity.role), position="top")
    ui.arrive(page.url_path)  # the filters chosen on another page come along
    ui.close_sidebar_after_navigation()  # on a narrow screen, the menu closes after a choice
    page.run()
else:  # the server
    from starlette.middleware import Middleware

    from civicstat.web import open_data_route, session_routes
    from civicstat.web.reconnect import ReloadLostSessions

    # A page whose process died reconnects to this one and loads itself again (web/reconnect.py).
    app = st.App(__file__, routes=[*session_routes.ROUTES, *open_data_route.ROUTES],
                 middleware=[Middleware(ReloadLostSessions)])
