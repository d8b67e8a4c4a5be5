-- returns: one row per department and district with requests created in the period, the on-time numerator, denominator and rate, and the median days to close of those created in the period and closed, with the closed requests it rests on (definitions: civicstat/core/definitions.py)
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: internal
-- The scorecard's figures split by district (queries/internal/scorecard.sql): counts from the
-- daily flows, the median from close_times; periods are whole days. A request without a
-- department or district is under '(not set)'.
with created as (
    select
        coalesce(department, '(not set)') as department,
        coalesce(district, '(not set)') as district,
        sum(count_created) as count_requests,
        sum(count_on_time) as count_on_time,
        sum(count_on_time_eligible) as count_on_time_eligible
    from scoped_flows($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by all
    having sum(count_created) > 0
),

times_to_close as (
    select
        coalesce(department, '(not set)') as department,
        coalesce(district, '(not set)') as district,
        median(days_to_close) as median_days_to_close,
        count(*) as count_with_days_to_close
    from scoped_close_times($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by all
),

final as (
    select
        c.department,
        c.district,
        c.count_requests::bigint as count_requests,
        c.count_on_time::bigint as count_on_time,
        c.count_on_time_eligible::bigint as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        t.median_days_to_close,
        coalesce(t.count_with_days_to_close, 0)::bigint as count_with_days_to_close
    from created as c
    left join times_to_close as t using (department, district)
)

select * from final order by department, district
