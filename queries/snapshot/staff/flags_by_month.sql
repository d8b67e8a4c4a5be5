-- returns: per (source, month created, flag), the requests carrying the flag ingest set, or closed_as_duplicate (is_not_duplicate false), with all requests of that source and month
-- params: none
-- materialized: view
-- snapshots: internal
-- depends: monthly_flags, monthly_requests
-- Two small tables of counts joined when read: an incremental publish adds and subtracts the
-- changed requests' counts in each instead of counting every request again.
with final as (
    select f.source, f.month, f.flag, f.count_flagged, t.count_requests
    from monthly_flags as f
    inner join monthly_requests as t using (source, month)
)

select * from final order by source, month, flag
