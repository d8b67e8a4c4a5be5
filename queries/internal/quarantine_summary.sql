-- returns: one row per (reason, file) of the quarantined records: how many, from how many ingest runs, and when the latest of those runs started
-- params: none
-- access: internal
-- Counted at publish (queries/snapshot/staff/quarantine_by_reason.sql).
with final as (
    select reason, file, count_records, count_runs, last_run_started_at
    from quarantine_by_reason
)

select * from final order by count_records desc, reason, file
