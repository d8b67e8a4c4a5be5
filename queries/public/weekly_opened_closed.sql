-- returns: one row per 7-day week counted back from the end of the period (so only the earliest week can be partial): requests opened and requests closed that week, and how many of its days lie in the period
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with by_day as (
    select day, sum(count_created) as count_opened, sum(count_closed) as count_closed
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by day
),

by_week as (
    select
        date_diff('day', day, $end::date - interval 1 day) // 7 as weeks_back,
        sum(count_opened) as count_opened,
        sum(count_closed) as count_closed
    from by_day
    group by weeks_back
),

weeks as (
    select unnest(range(0, (date_diff('day', $start::date, $end::date) + 6) // 7)) as weeks_back
),

final as (
    select
        ($end::date - to_days((7 * (weeks.weeks_back + 1))::integer))::date as week_start,
        coalesce(by_week.count_opened, 0)::bigint as count_opened,
        coalesce(by_week.count_closed, 0)::bigint as count_closed,
        least(7, date_diff('day', $start::date, $end::date) - 7 * weeks.weeks_back)
            as count_days_in_period
    from weeks
    left join by_week using (weeks_back)
)

select * from final order by week_start
