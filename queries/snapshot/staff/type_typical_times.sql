-- returns: per request type, the median and 90th-percentile days to close of its requests (counted like performance_requests) created in the 365 days before the snapshot's as-of time (and up to it) and closed
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests, snapshot_info
-- incremental: rebuild
-- The request explorer compares one request with its type.
with as_of as (
    select as_of::timestamp as as_of from snapshot_info  -- typed even when NULL (an empty store)
),

final as (
    select
        r.request_type,
        count(*) as count_closed,
        median(r.days_to_close) as median_days_to_close,
        quantile_cont(r.days_to_close, 0.9) as p90_days_to_close
    from performance_requests as r
    cross join as_of
    where
        r.created_at >= as_of.as_of - interval 365 day
        and r.created_at <= as_of.as_of
        and r.days_to_close is not null
    group by r.request_type
)

select * from final order by request_type
