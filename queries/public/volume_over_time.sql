-- returns: one row per week (starting Monday) or month ($grain) overlapping the period: requests received in it within the period, the same weeks (52 weeks earlier) or month a year before, and how many of its days lie in the period
-- params: grain VARCHAR, start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily flows (scoped_type_flows; periods are whole days): the period's days,
-- and the days a year earlier, read as two ranges.
with settings as (
    select
        case when $grain = 'month' then 'month' else 'week' end as grain,
        case when $grain = 'month' then interval 1 month else interval 7 day end as step,
        -- a year earlier, on the same weekday for weeks
        case when $grain = 'month' then interval 1 year else interval 364 day end as shift
),

days_this_year as (
    select day, sum(count_created) as count_requests
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by day
),

days_last_year as (
    -- the days that a year (or 364 days) later fall in the period, and a few more
    select day, sum(count_created) as count_requests
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where
        day >= ($start::timestamp - interval 1 year - interval 7 day)::date
        and day < ($end::timestamp - interval 364 day)::date
    group by day
),

this_year as (
    select
        date_trunc(settings.grain, days.day::timestamp) as bucket_start,
        sum(days.count_requests) as count_requests
    from days_this_year as days
    cross join settings
    group by bucket_start
),

last_year as (
    select
        date_trunc(settings.grain, days.day + settings.shift) as bucket_start,
        sum(days.count_requests) as count_requests_last_year
    from days_last_year as days
    cross join settings
    where days.day + settings.shift >= $start and days.day + settings.shift < $end
    group by bucket_start
),

buckets as (
    select
        unnest(generate_series(
            date_trunc(settings.grain, $start::timestamp),
            date_trunc(settings.grain, $end::timestamp - interval 1 microsecond),
            settings.step
        )) as bucket_start
    from settings
),

final as (
    select
        buckets.bucket_start::date as bucket_start,
        coalesce(this_year.count_requests, 0)::bigint as count_requests,
        coalesce(last_year.count_requests_last_year, 0)::bigint as count_requests_last_year,
        date_diff(
            'day',
            greatest(buckets.bucket_start, date_trunc('day', $start::timestamp)),
            least(
                buckets.bucket_start + settings.step,
                date_trunc('day', $end::timestamp - interval 1 microsecond) + interval 1 day
            )
        ) as count_days_in_period
    from buckets
    cross join settings
    left join this_year using (bucket_start)
    left join last_year using (bucket_start)
)

select * from final order by bucket_start
