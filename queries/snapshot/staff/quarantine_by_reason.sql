-- returns: per (reason, file), the quarantined records: how many, from how many ingest runs, and when the latest of those runs started
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: quarantine, ingest_runs
-- incremental: rebuild
with final as (
    select
        coalesce(q.reason, '(no reason)') as reason,
        coalesce(q.file, '(unknown file)') as file,
        count(*) as count_records,
        count(distinct q.run_id) as count_runs,
        max(r.started_at) as last_run_started_at
    from quarantine as q
    left join ingest_runs as r using (run_id)
    group by all
)

select * from final order by all
