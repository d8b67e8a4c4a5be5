-- returns: two rows (period = 'current', 'previous') with the Overview's headline figures: requests received, median and 90th-percentile days to close, on-time rate with its numerator and denominator, and requests open at the end of the period (definitions: civicstat/definitions.py)
-- params: start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with flows as (
    select * from scoped_flows($department, $district, $category, $request_type, $channel)
),

counts as (
    select
        case when day >= $start::date then 'current' else 'previous' end as period,
        sum(count_created) as count_requests,
        sum(count_on_time) as count_on_time,
        sum(count_on_time_eligible) as count_on_time_eligible
    from flows
    where day >= $prev_start::date and day < $end::date
    group by period
),

open_counts as (
    select
        sum(count_created - count_closed) filter (where day < $end::date) as current_open,
        sum(count_created - count_closed) filter (where day < $start::date) as previous_open
    from flows
    where day < $end::date
),

times_to_close as (
    select
        case when created_at >= $start then 'current' else 'previous' end as period,
        quantile_cont(days_to_close, [0.5, 0.9]) as quantiles
    from scoped_requests($department, $district, $category, $request_type, $channel)
    where created_at >= $prev_start and created_at < $end and days_to_close is not null
    group by period
),

periods as (
    select 'current' as period
    union all
    select 'previous' as period
),

final as (
    select
        periods.period,
        coalesce(c.count_requests, 0) as count_requests,
        t.quantiles[1] as median_days_to_close,
        t.quantiles[2] as p90_days_to_close,
        coalesce(c.count_on_time, 0) as count_on_time,
        coalesce(c.count_on_time_eligible, 0) as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        coalesce(
            case when periods.period = 'current' then o.current_open else o.previous_open end, 0
        ) as count_open_at_end
    from periods
    left join counts as c using (period)
    left join times_to_close as t using (period)
    cross join open_counts as o
)

select * from final order by period
