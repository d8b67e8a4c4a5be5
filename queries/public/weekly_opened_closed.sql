-- returns: one row per 7-day week counted back from the end of the period (so only the earliest week can be partial): requests opened and requests closed that week, and how many of its days lie in the period
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with scoped as (
    select created_at, closed_at, status
    from scoped_requests($department, $district, $category, $request_type, $channel)
),

opened as (
    select
        floor((epoch($end::timestamp) - epoch(created_at)) / 604800)::integer as weeks_back,
        count(*) as count_opened
    from scoped
    where created_at >= $start and created_at < $end
    group by weeks_back
),

closed as (
    select
        floor((epoch($end::timestamp) - epoch(closed_at)) / 604800)::integer as weeks_back,
        count(*) as count_closed
    from scoped
    where status = 'closed' and closed_at >= $start and closed_at < $end
    group by weeks_back
),

weeks as (
    select unnest(range(
        0, ceil(date_diff('second', $start::timestamp, $end::timestamp) / 604800)::integer
    )) as weeks_back
),

final as (
    select
        ($end::timestamp - to_days(7 * (weeks.weeks_back + 1)))::date as week_start,
        coalesce(opened.count_opened, 0) as count_opened,
        coalesce(closed.count_closed, 0) as count_closed,
        date_diff(
            'day',
            greatest($end::timestamp - to_days(7 * (weeks.weeks_back + 1)), $start::timestamp),
            $end::timestamp - to_days(7 * weeks.weeks_back)
        ) as count_days_in_period
    from weeks
    left join opened using (weeks_back)
    left join closed using (weeks_back)
)

select * from final order by week_start
