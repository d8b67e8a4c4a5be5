"""Admin: the snapshots being served, the ingest runs behind them, the city's targets, goals and
privacy policy as loaded, and who may sign in."""

import streamlit as st

from civicstat.core import scorecard
from civicstat.core.city import city_dir_from_env
from civicstat.web import auth, data, staff_ui, ui

info = staff_ui.staff_page("Admin")

st.subheader("Snapshots being served")
public = data.public_info()
staff_ui.snapshot_table([info, public])

st.subheader("Ingest runs, newest first")
st.dataframe(data.internal_query("ingest_runs"), hide_index=True, width="stretch",
             column_config=staff_ui.INGEST_RUN_COLUMNS)
st.caption("Sources in the internal snapshot:")
st.dataframe(data.internal_query("sources"), hide_index=True, width="stretch",
             column_config=staff_ui.SOURCE_COLUMNS)

st.subheader("Service targets and privacy tier of each request type, as published")
st.dataframe(data.internal_query("request_type_policy"), hide_index=True, width="stretch",
             column_config=staff_ui.POLICY_COLUMNS)
goals = scorecard.load_goals(city_dir_from_env())
st.caption(
    f"Department goals from city.toml (read now; departments without one get a "
    f"{scorecard.DEFAULT_ON_TIME_GOAL:.0%} on-time goal and a median target from their types):"
)
staff_ui.goals_table(goals)

st.subheader("Privacy policy of the public snapshot")
staff_ui.privacy_policy(public)

st.subheader("Who may sign in")
access = auth.load_access()
staff_ui.key_values({
    "Single sign-on (st.login)": "configured" if auth.sso_configured() else "not configured",
    "Idle timeout": f"{access.idle_timeout_minutes:g} minutes" if access.idle_timeout_minutes
    else "none",
    "Built-in accounts": ", ".join(f"{a.name} ({a.role})" for a in access.accounts.values())
    or "none",
    "Single sign-on e-mails with a role": ", ".join(
        f"{email} ({role})" for email, role in access.email_roles.items()) or "none",
}, key="access")
for problem in access.problems:
    st.warning(f"Ignored in the secrets file: {ui.md(problem)}")
