-- returns: one row per 7-day week counted back from the end of the period (as weekly_opened_closed: only the earliest week can be partial): of the requests created that week, the on-time numerator, denominator and rate, and the median days to close with the closed requests it rests on; how many of its days lie in the period; and, on every row, the median target of the period's requests in days (the median of their request types' target times, as the scorecard's median target) with the requests it rests on (count_requests_in_period: the target tells the mix of types)
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with on_time_by_week as (
    select
        date_diff('day', day, $end::date - interval 1 day) // 7 as weeks_back,
        sum(count_on_time) as count_on_time,
        sum(count_on_time_eligible) as count_on_time_eligible
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by weeks_back
),

counted as (
    select
        c.day,
        c.days_to_close,
        t.target_hours
    from scoped_counted($department, $district, $category, $request_type, $channel) as c
    left join request_types as t using (request_type)
    where c.day >= $start::date and c.day < $end::date
),

times_by_week as (
    select
        date_diff('day', day, $end::date - interval 1 day) // 7 as weeks_back,
        median(days_to_close) as median_days_to_close,
        count(days_to_close) as count_with_days_to_close
    from counted
    group by weeks_back
),

target as (
    select
        quantile_cont(target_hours, 0.5) / 24.0 as median_target_days,
        count(*) as count_requests_in_period
    from counted
),

weeks as (
    select unnest(range(0, (date_diff('day', $start::date, $end::date) + 6) // 7)) as weeks_back
),

final as (
    select
        ($end::date - to_days((7 * (weeks.weeks_back + 1))::integer))::date as week_start,
        coalesce(o.count_on_time, 0)::bigint as count_on_time,
        coalesce(o.count_on_time_eligible, 0)::bigint as count_on_time_eligible,
        o.count_on_time / nullif(o.count_on_time_eligible, 0) as on_time_rate,
        t.median_days_to_close,
        coalesce(t.count_with_days_to_close, 0)::bigint as count_with_days_to_close,
        least(7, date_diff('day', $start::date, $end::date) - 7 * weeks.weeks_back)
            as count_days_in_period,
        target.median_target_days,
        target.count_requests_in_period
    from weeks
    left join on_time_by_week as o using (weeks_back)
    left join times_by_week as t using (weeks_back)
    cross join target
)

select * from final order by week_start
