-- returns: the quarantined records themselves, newest run first, at most `limit` rows: run, when it started, file, line, reason and the raw text as read (hostile input: show it as text), with the number in all (count_quarantined, on every row)
-- params: limit INTEGER
-- access: internal
with quarantined as (
    select q.run_id, r.started_at, q.file, q.line, q.reason, q.raw
    from quarantine as q
    left join ingest_runs as r using (run_id)
),

final as (
    select *, count(*) over () as count_quarantined
    from quarantined
    order by run_id desc, file, line
    limit $limit
)

select * from final order by run_id desc, file, line
