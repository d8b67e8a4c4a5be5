-- returns: the closed requests' days_to_close (counted like performance_requests; NULL days_to_close left out) with the day of creation and the five dimensions, for medians and 90th percentiles
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests, request_types
-- incremental: rows
-- Sorted by department, day and days_to_close: a department's rows of a period are contiguous (a
-- department filter reads only them) and reach the quantile nearly in order, which makes DuckDB's
-- exact quantiles several times faster than on rows in created_at order. The sort compares each
-- department's position in the (short, sorted) list of departments instead of the text: the same
-- order, a third less time to sort at 10 million rows.
with final as (
    select
        department, created_at::date as day, category, request_type, district, channel,
        days_to_close
    from performance_requests
    where days_to_close is not null
)

select * from final
order by
    list_position(
        (select list(distinct department order by department) from request_types), department
    ),
    day,
    days_to_close
