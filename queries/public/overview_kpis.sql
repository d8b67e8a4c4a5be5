-- returns: two rows (period = 'current', 'previous') with the Overview's headline figures: requests received, median and 90th-percentile days to close, on-time rate with its numerator and denominator, and requests open at the end of the period
-- params: start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, as_of TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with scoped as (
    select created_at, closed_at, due_at, status
    from scoped_requests($department, $district, $category, $request_type, $channel)
),

created_in_window as (
    select
        case when created_at >= $start then 'current' else 'previous' end as period,
        status = 'closed' and closed_at is not null as is_closed,
        case
            when status = 'closed' and closed_at >= created_at
                then (epoch(closed_at) - epoch(created_at)) / 86400.0
        end as days_to_close,
        due_at,
        closed_at
    from scoped
    where created_at >= $prev_start and created_at < $end
),

created_figures as (
    select
        period,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close,
        count(*) filter (where due_at is not null and is_closed and closed_at <= due_at)
            as count_on_time,
        count(*) filter (where due_at is not null and (is_closed or due_at < $as_of))
            as count_on_time_eligible
    from created_in_window
    group by period
),

open_figures as (
    select
        count(*) filter (
            where created_at < $end
              and not (status = 'closed' and (closed_at is null or closed_at < $end))
        ) as current_open,
        count(*) filter (
            where created_at < $start
              and not (status = 'closed' and (closed_at is null or closed_at < $start))
        ) as previous_open
    from scoped
    where created_at < $end
),

periods as (
    select 'current' as period
    union all
    select 'previous' as period
),

final as (
    select
        periods.period,
        coalesce(f.count_requests, 0) as count_requests,
        f.median_days_to_close,
        f.p90_days_to_close,
        coalesce(f.count_on_time, 0) as count_on_time,
        coalesce(f.count_on_time_eligible, 0) as count_on_time_eligible,
        f.count_on_time / nullif(f.count_on_time_eligible, 0) as on_time_rate,
        case when periods.period = 'current' then o.current_open else o.previous_open end
            as count_open_at_end
    from periods
    left join created_figures as f on f.period = periods.period
    cross join open_figures as o
)

select * from final order by period
