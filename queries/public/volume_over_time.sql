-- returns: one row per week or month ($grain) overlapping the period: requests received in it within the period, the same days a year before (52 weeks earlier for weeks, so on the same weekdays), how many of its days lie in the period and how many days it has. Weeks are 7-day weeks counted back from the end of the period, as on the Overview: only the earliest can be partial
-- params: grain VARCHAR, start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily flows (scoped_type_flows; periods are whole days): the period's days,
-- and the days a year earlier, read as two ranges.
with settings as (
    select
        $grain = 'month' as by_month,
        $start::date as first_day,
        $end::date as end_day,
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
    -- the days that a year (or 364 days) later fall in the period
    select (flows.day + settings.shift)::date as day, sum(flows.count_created) as count_requests
    from scoped_type_flows($department, $district, $category, $request_type, $channel) as flows
    cross join settings
    where
        flows.day >= ($start::timestamp - interval 1 year - interval 7 day)::date
        and flows.day < ($end::timestamp - interval 364 day)::date
        and flows.day + settings.shift >= $start and flows.day + settings.shift < $end
    group by all
),

bucketed as (
    -- each day's bucket: its calendar month, or its 7-day week counted back from the end
    select
        days.count_requests,
        days.is_this_year,
        case
            when settings.by_month then date_trunc('month', days.day)::date
            else (
                settings.end_day
                - to_days((7 * ((date_diff('day', days.day, settings.end_day) - 1) // 7) + 7)::integer)
            )::date
        end as bucket_start
    from (
        select day, count_requests, true as is_this_year from days_this_year
        union all
        select day, count_requests, false as is_this_year from days_last_year
    ) as days
    cross join settings
),

buckets as (
    select
        unnest(case
            when settings.by_month
                then
                    generate_series(
                        date_trunc('month', settings.first_day),
                        date_trunc('month', settings.end_day - interval 1 day),
                        interval 1 month
                    )
            else generate_series(
                (settings.end_day - to_days(
                    (7 * ((date_diff('day', settings.first_day, settings.end_day) + 6) // 7))::integer
                ))::timestamp,
                (settings.end_day - interval 7 day)::timestamp,
                interval 7 day
            )
        end)::date as bucket_start
    from settings
),

final as (
    select
        buckets.bucket_start,
        coalesce(sum(bucketed.count_requests) filter (where bucketed.is_this_year), 0)::bigint
            as count_requests,
        coalesce(sum(bucketed.count_requests) filter (where not bucketed.is_this_year), 0)::bigint
            as count_requests_last_year,
        any_value(date_diff(
            'day',
            greatest(buckets.bucket_start, settings.first_day),
            least(buckets.bucket_start + settings.step, settings.end_day)
        )) as count_days_in_period,
        any_value(date_diff('day', buckets.bucket_start, buckets.bucket_start + settings.step))
            as count_days_in_bucket
    from buckets
    cross join settings
    left join bucketed on buckets.bucket_start = bucketed.bucket_start
    group by buckets.bucket_start
)

select * from final order by bucket_start
