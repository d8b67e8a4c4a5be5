-- returns: the quarantined records themselves, newest run first, at most `limit` rows: run, when it started, file, line, reason and the raw text as read (hostile input: show it as text), with the number in all (count_quarantined, on every row)
-- params: limit INTEGER
-- access: internal
-- The number in all comes from quarantine_by_reason (counted at publish), so only the rows
-- listed are read whole.
with listed as (
    select run_id, file, line, reason, raw
    from quarantine
    order by run_id desc, file, line
    limit $limit
),

counted as (
    select coalesce(sum(count_records), 0)::bigint as count_quarantined from quarantine_by_reason
),

final as (
    select l.run_id, r.started_at, l.file, l.line, l.reason, l.raw, c.count_quarantined
    from listed as l
    left join ingest_runs as r using (run_id)
    cross join counted as c
)

select * from final order by run_id desc, file, line
