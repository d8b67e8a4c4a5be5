"""Staff sign-in for signed-out visitors; for signed-in staff, who they are and how to sign out."""

import streamlit as st

from civicstat.web import auth

me = auth.identity()
access = auth.load_access()
idle = access.idle_timeout_minutes

if me.role != "anonymous":
    st.title("Your account")
    how = "single sign-on" if me.method == "sso" else "a CivicStat account"
    st.text(f"Signed in as {me.name} ({me.role}), with {how}.")
    st.caption(
        f"You are signed out after {idle:g} minutes without activity." if idle
        else "Sessions do not time out on this installation."
    )
    st.subheader("Staff pages")
    for page, label in (
        ("views/internal/scorecards.py", "Department scorecards"),
        ("views/internal/backlog.py", "Backlog"),
        ("views/internal/requests.py", "Request explorer"),
        ("views/internal/quality.py", "Data quality"),
    ):
        st.page_link(page, label=label)
    if me.role == "admin":
        st.page_link("views/internal/admin.py", label="Admin")
    st.button("Sign out", icon=":material/logout:", on_click=auth.sign_out)
    st.stop()

st.title("Staff sign-in")
st.markdown(
    "The internal management view (department scorecards, the backlog, the request explorer and "
    "data quality) is for city staff. The public pages need no sign-in."
)
if me.signed_in:  # single sign-on worked, but the e-mail has no role here
    st.warning("You are signed in, but this account has no staff role here. Ask an administrator "
               "to add your e-mail address to the staff roles.", icon=":material/block:")
    st.text(f"Signed in as {me.name}")
    st.button("Sign out", icon=":material/logout:", on_click=auth.sign_out)
    st.stop()

sso = auth.sso_configured()
if not sso and auth.sso_section() is not None:
    st.warning(
        "Single sign-on is not set up completely, so it is not offered: the secrets file's "
        "[auth] section lacks " + ", ".join(auth.sso_missing(auth.sso_section())) + "."
    )
if sso and st.button("Sign in with single sign-on", type="primary", icon=":material/key:"):
    st.login()
if access.accounts:
    if sso:
        st.caption("Or with a CivicStat account:")
    with st.form("sign_in", width=420):
        name = st.text_input("Account name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary" if not sso else "secondary")
    if submitted:
        problem = auth.sign_in_with_password(name, password)
        if problem:
            st.error(problem)
        else:
            st.rerun()
    st.caption(
        "A CivicStat sign-in stays on this browser, in its tabs and across reloads, until you sign "
        "out" + (f", after {idle:g} minutes without activity," if idle else ",")
        + " or after 12 hours."
    )
if not sso and not access.accounts:
    st.info(
        "Staff sign-in is not set up on this installation. An administrator can add accounts "
        "with `civicstat add-user NAME --role staff`, or configure single sign-on "
        "(see .streamlit/secrets.example.toml)."
    )
