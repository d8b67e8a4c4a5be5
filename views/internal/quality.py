"""Data quality: what ingest set aside (quarantine, by reason and file), what it kept but flagged
(by source and month), and how complete each field is."""

import streamlit as st

from civicstat.core import explorer
from civicstat.web import charts, data, staff_ui

info = staff_ui.staff_page(
    "Data quality",
    "Rows that cannot be used at all are **quarantined** with their reason; doubtful but usable "
    "values are kept and **flagged**. Duplicates (closed as duplicate) are counted here and left "
    "out of every performance figure.",
)
summary = data.internal_query("quarantine_summary")
flags = data.internal_query("quality_flags")
staff_ui.quality_tiles(summary, flags, int(info["count_requests"]))

st.subheader("Quarantined records, by reason and file")
if summary.empty:
    st.info("Nothing is in quarantine: every record read so far could be used.")
else:
    st.dataframe(summary, hide_index=True, width="stretch", column_config={
        "reason": st.column_config.TextColumn("Reason"),
        "file": st.column_config.TextColumn("File"),
        "count_records": st.column_config.NumberColumn("Records", format="localized"),
        "count_runs": st.column_config.NumberColumn("Ingest runs", format="localized"),
        "last_run_started_at": st.column_config.DatetimeColumn("Latest run",
                                                               format="YYYY-MM-DD HH:mm"),
    })
    records = data.internal_query("quarantine_records", limit=500)
    with st.expander("The quarantined records themselves (raw text as read)"):
        st.dataframe(records, hide_index=True, width="stretch",
                     column_config={"count_quarantined": None})
        if explorer.count_in_all(records, "count_quarantined") > len(records):
            st.caption(f"The newest {len(records):,} are shown; the download holds up to 100,000.")
    staff_ui.download_csv(lambda: data.internal_query("quarantine_records", limit=100_000),
                          "Download the quarantine (CSV)", "quarantine.csv",
                          key="quarantine_csv", exclude=("count_quarantined",))

st.subheader("Flags and duplicates, by month")
if flags.empty:
    st.info("No request carries a flag.")
else:
    st.plotly_chart(charts.flags_by_month(flags), width="stretch",
                    config={"displayModeBar": False})
    with st.expander("By source, month and flag"):
        st.dataframe(flags, hide_index=True, width="stretch", column_config={
            "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
            "count_flagged": st.column_config.NumberColumn("Flagged", format="localized"),
            "count_requests": st.column_config.NumberColumn("Requests that month",
                                                            format="localized"),
        })

st.subheader("Completeness of each field, by source")
staff_ui.completeness_table(data.internal_query("field_completeness"))
