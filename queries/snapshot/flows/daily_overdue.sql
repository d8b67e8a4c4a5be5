-- returns: per day and dimension values, the requests that became open and past due that day and those that stopped being open and past due, counted like performance_requests
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests
-- incremental: sums
-- A request becomes open and past due on its due day, or the day it was created if it was already
-- due then, while still open; it stops being so the day it is closed, after its due time. Days run
-- into the future (due dates after the as-of time): so, like open_now and daily_flows,
--   open and past due at midnight D = count_open_with_due_at − Σ_{day ≥ D} (started − ended).
with counted as (
    select
        department, category, request_type, district, channel,
        greatest(created_at, due_at) as overdue_from,
        open_until
    from performance_requests
    where
        due_at is not null
        and (open_until is null or open_until > greatest(created_at, due_at))
),

changes as (
    select
        overdue_from::date as day, department, category, request_type, district, channel,
        1 as started, 0 as ended
    from counted
    union all
    select
        open_until::date as day, department, category, request_type, district, channel,
        0 as started, 1 as ended
    from counted
    where open_until is not null
),

final as (
    select
        day, department, category, request_type, district, channel,
        sum(started)::integer as count_became_overdue,
        sum(ended)::integer as count_stopped_overdue
    from changes
    group by all
)

select * from final order by day
