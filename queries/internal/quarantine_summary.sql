-- returns: one row per (reason, file) of the quarantined records: how many, from how many ingest runs, and when the latest of those runs started
-- params: none
-- access: internal
with quarantined as (
    select q.reason, q.file, q.run_id, r.started_at
    from quarantine as q
    left join ingest_runs as r using (run_id)
),

final as (
    select
        coalesce(reason, '(no reason)') as reason,
        coalesce(file, '(unknown file)') as file,
        count(*) as count_records,
        count(distinct run_id) as count_runs,
        max(started_at) as last_run_started_at
    from quarantined
    group by all
)

select * from final order by count_records desc, reason, file
