-- returns: two rows (period = 'current', 'previous') with the Overview's headline figures: requests received, median and 90th-percentile days to close, on-time rate with its numerator and denominator, and requests open at the end of the period (definitions: civicstat/definitions.py)
-- params: start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with scoped as (
    select created_at, days_to_close, is_on_time, open_until
    from scoped_requests($department, $district, $category, $request_type, $channel)
),

current_period as (
    select
        'current' as period,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close,
        count_if(is_on_time) as count_on_time,
        count(is_on_time) as count_on_time_eligible
    from scoped
    where created_at >= $start and created_at < $end
),

previous_period as (
    select
        'previous' as period,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close,
        count_if(is_on_time) as count_on_time,
        count(is_on_time) as count_on_time_eligible
    from scoped
    where created_at >= $prev_start and created_at < $start
),

open_counts as (
    select
        count(*) filter (where open_until is null or open_until >= $end) as current_open,
        count(*) filter (
            where created_at < $start and (open_until is null or open_until >= $start)
        ) as previous_open
    from scoped
    where created_at < $end
),

final as (
    select
        p.period,
        p.count_requests,
        p.median_days_to_close,
        p.p90_days_to_close,
        p.count_on_time,
        p.count_on_time_eligible,
        p.count_on_time / nullif(p.count_on_time_eligible, 0) as on_time_rate,
        case when p.period = 'current' then o.current_open else o.previous_open end
            as count_open_at_end
    from (select * from current_period union all select * from previous_period) as p
    cross join open_counts as o
)

select * from final order by period
