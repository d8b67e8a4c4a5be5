-- returns: the requests that count in performance figures (performance_requests), narrowed to what the medians and the density map read: the day of creation, the five dimensions, the location and days_to_close (NULL unless closed)
-- params: none
-- materialized: table
-- snapshots: public
-- depends: performance_requests
-- incremental: rows
-- Periods are whole days. Sorted by day and then days_to_close, so a period's rows are contiguous
-- and arrive nearly in order: DuckDB's exact quantiles run two to three times faster on them.
with final as (
    select
        created_at::date as day, department, category, request_type, district, channel,
        lat, lon, days_to_close
    from performance_requests
)

select * from final order by day, days_to_close
