-- returns: per day and dimension values, the requests created that day (with their on-time counts) and the requests that stopped being open that day, counted like performance_requests
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests
-- incremental: sums
-- Periods are whole days, so sums over days give the same counts as the request rows, cheaply:
-- open at midnight of day D = created before D − stopped being open before D (a request closed
-- before it was created stops on the day it was created). The public snapshot copies this table
-- without the aggregate-only types' rows (queries/snapshot/public/daily_flows.sql).
with counted as (
    select
        department, category, request_type, district, channel,
        created_at::date as created_day,
        case when open_until is not null then greatest(open_until, created_at)::date end
            as closed_day,
        is_on_time
    from performance_requests
),

flows as (
    select
        created_day as day, department, category, request_type, district, channel,
        1 as created, is_on_time::integer as on_time, (is_on_time is not null)::integer as due,
        0 as closed
    from counted
    union all
    select
        closed_day as day, department, category, request_type, district, channel,
        0 as created, 0 as on_time, 0 as due, 1 as closed
    from counted
    where closed_day is not null
),

final as (
    select
        day, department, category, request_type, district, channel,
        sum(created)::integer as count_created,
        sum(on_time)::integer as count_on_time,
        sum(due)::integer as count_on_time_eligible,
        sum(closed)::integer as count_closed
    from flows
    group by all
)

select * from final order by day
