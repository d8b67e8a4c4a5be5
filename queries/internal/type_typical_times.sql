-- returns: one row per request type: its department, target in days, and the median and 90th-percentile days to close of its requests created in the 365 days before as_of and closed (duplicates left out), with how many that is
-- params: as_of TIMESTAMP
-- access: internal
with closed_last_year as (
    select
        request_type,
        days_to_close
    from scoped_requests(null, null, null, null, null)
    where created_at >= $as_of - interval 365 day
      and created_at <= $as_of
      and days_to_close is not null
),

figures as (
    select
        request_type,
        count(*) as count_closed,
        median(days_to_close) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close
    from closed_last_year
    group by request_type
),

final as (
    select
        t.request_type,
        t.department,
        t.target_hours / 24.0 as target_days,
        coalesce(f.count_closed, 0) as count_closed,
        f.median_days_to_close,
        f.p90_days_to_close
    from request_types as t
    left join figures as f using (request_type)
)

select * from final order by request_type
