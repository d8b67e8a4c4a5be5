-- returns: one row per ingest run, newest first: when it started and finished, its source and files, and the records read, inserted, updated, unchanged and rejected (with the rejections by reason as JSON)
-- params: none
-- access: internal
with final as (
    select
        run_id,
        started_at,
        finished_at,
        epoch(finished_at) - epoch(started_at) as seconds,
        source,
        array_to_string(files, ', ') as files,
        count_read,
        count_inserted,
        count_updated,
        count_unchanged,
        count_rejected,
        rejected_by_reason::varchar as rejected_by_reason
    from ingest_runs
)

select * from final order by run_id desc
