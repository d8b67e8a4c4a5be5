-- returns: one row per day or week ($grain) of the period with the requests open, and open and past due, at the end of it (or at the end of the period, for the last one): counted_at is that moment, last_day the day it ends
-- params: grain VARCHAR, start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- A request is open at moment e when created_at < e and (open_until is null or open_until >= e)
-- (civicstat/core/definitions.py); open and past due when also due_at < e. Periods are whole days, so
-- daily counts suffice (queries/snapshot/flows): daily flows (+ created, − closed), daily_overdue
-- (+ became past due while open, − closed while past due) and open_now (open now, and of them
-- with a due date: the sum of each series' changes over all days). The backlog at the start of
-- the period is then what is open now less the changes since, and each step adds its changes.
with settings as (
    select
        case when $grain = 'day' then 'day' else 'week' end as grain,
        case when $grain = 'day' then interval 1 day else interval 7 day end as step
),

open_now as (
    select
        coalesce(sum(count_open), 0) as count_open,
        coalesce(sum(count_open_with_due_at), 0) as count_overdue
    from scoped_open($department, $district, $category, $request_type, $channel)
),

open_changes as (
    select day, sum(count_created - count_closed) as open_change
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $start::date
    group by day
),

overdue_changes as (
    select day, sum(count_became_overdue - count_stopped_overdue) as overdue_change
    from scoped_overdue($department, $district, $category, $request_type, $channel)
    where day >= $start::date
    group by day
),

changes as (
    select
        day,
        coalesce(o.open_change, 0) as open_change,
        coalesce(d.overdue_change, 0) as overdue_change
    from open_changes as o
    full join overdue_changes as d using (day)
),

changes_since_start as (
    select
        coalesce(sum(open_change), 0) as open_change,
        coalesce(sum(overdue_change), 0) as overdue_change
    from changes
),

at_start as (
    select
        open_now.count_open - changes_since_start.open_change as count_open,
        open_now.count_overdue - changes_since_start.overdue_change as count_overdue
    from open_now
    cross join changes_since_start
),

steps as (
    -- days, or 7-day weeks counted back from the end of the period (as every weekly figure)
    select
        unnest(case
            when settings.grain = 'day'
                then
                    generate_series(
                        $start::date::timestamp, $end::date::timestamp - interval 1 day, interval 1 day
                    )
            else generate_series(
                ($end::date - to_days(
                    (7 * ((date_diff('day', $start::date, $end::date) + 6) // 7))::integer
                ))::timestamp,
                ($end::date - interval 7 day)::timestamp,
                interval 7 day
            )
        end) as step_start
    from settings
),

changes_by_step as (
    select
        case
            when settings.grain = 'day' then changes.day::timestamp
            else (
                $end::date
                - to_days((7 * ((date_diff('day', changes.day, $end::date) - 1) // 7) + 7)::integer)
            )::timestamp
        end as step_start,
        sum(changes.open_change) as open_change,
        sum(changes.overdue_change) as overdue_change
    from changes
    cross join settings
    where changes.day < $end::date
    group by all
),

final as (
    select
        least(steps.step_start + settings.step, $end::timestamp) as counted_at,
        (least(steps.step_start + settings.step, $end::timestamp) - interval 1 microsecond)::date
            as last_day,
        (at_start.count_open + sum(coalesce(c.open_change, 0)) over (order by steps.step_start))::bigint
            as count_open,
        (at_start.count_overdue + sum(coalesce(c.overdue_change, 0)) over (order by steps.step_start))::bigint
            as count_overdue
    from steps
    cross join settings
    cross join at_start
    left join changes_by_step as c using (step_start)
)

select * from final order by counted_at
