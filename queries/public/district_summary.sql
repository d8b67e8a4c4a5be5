-- returns: one row per district with its requests received in the period, median days to close with the requests it rests on (created in the period and closed), on-time rate with the requests that were due, requests open at the end of the period, population, requests per 1,000 residents, and its map centre and simplified boundary (GeoJSON, WGS84)
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily_flows and open_now (periods are whole days; open at the end = open now,
-- less the requests created on or after the end, plus those closed on or after it); the median
-- reads the period's rows of counted_requests.
with flows as (
    select * from scoped_flows($department, null, $category, $request_type, $channel)
    where district is not null and day >= $start::date
),

counts as (
    select
        district,
        sum(count_created) filter (where day < $end::date) as count_requests,
        sum(count_on_time) filter (where day < $end::date) as count_on_time,
        sum(count_on_time_eligible) filter (where day < $end::date) as count_on_time_eligible
    from flows
    group by district
),

open_changes as (
    select district, count_open as open_change
    from scoped_open($department, null, $category, $request_type, $channel)
    where district is not null
    union all
    select district, -(count_created - count_closed) as open_change
    from flows
    where day >= $end::date
),

open_counts as (
    select district, sum(open_change) as count_open_at_end
    from open_changes
    group by district
),

times_to_close as (
    select
        district,
        median(days_to_close) as median_days_to_close,
        count(*) as count_with_days_to_close
    from scoped_counted($department, null, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date and days_to_close is not null
    group by district
),

final as (
    select
        d.district,
        d.population,
        coalesce(c.count_requests, 0)::bigint as count_requests,
        t.median_days_to_close,
        coalesce(t.count_with_days_to_close, 0)::bigint as count_with_days_to_close,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        coalesce(c.count_on_time_eligible, 0)::bigint as count_on_time_eligible,
        coalesce(o.count_open_at_end, 0)::bigint as count_open_at_end,
        1000.0 * coalesce(c.count_requests, 0) / nullif(d.population, 0)
            as requests_per_1000_residents,
        d.center_lat,
        d.center_lon,
        d.geometry_json
    from districts as d
    left join counts as c using (district)
    left join open_counts as o using (district)
    left join times_to_close as t using (district)
)

select * from final order by district
