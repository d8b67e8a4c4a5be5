-- returns: one row per week (starting Monday) overlapping the period: requests opened and requests closed that week within the period, and how many of the week's days lie in the period
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with scoped as (
    select created_at, closed_at, status
    from scoped_requests($department, $district, $category, $request_type, $channel)
),

opened as (
    select date_trunc('week', created_at) as week_start, count(*) as count_opened
    from scoped
    where created_at >= $start and created_at < $end
    group by week_start
),

closed as (
    select date_trunc('week', closed_at) as week_start, count(*) as count_closed
    from scoped
    where status = 'closed' and closed_at >= $start and closed_at < $end
    group by week_start
),

weeks as (
    select unnest(generate_series(
        date_trunc('week', $start::timestamp),
        date_trunc('week', $end::timestamp - interval 1 microsecond),
        interval 7 day
    )) as week_start
),

final as (
    select
        weeks.week_start::date as week_start,
        coalesce(opened.count_opened, 0) as count_opened,
        coalesce(closed.count_closed, 0) as count_closed,
        date_diff(
            'day',
            greatest(weeks.week_start, date_trunc('day', $start::timestamp)),
            least(weeks.week_start + interval 7 day, date_trunc('day', $end::timestamp - interval 1 microsecond) + interval 1 day)
        ) as count_days_in_period
    from weeks
    left join opened using (week_start)
    left join closed using (week_start)
)

select * from final order by week_start
