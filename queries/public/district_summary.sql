-- returns: one row per district with its requests received in the period, median days to close, on-time rate, requests open at the end of the period, population, requests per 1,000 residents, and its map centre and simplified boundary (GeoJSON, WGS84)
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with flows as (
    select * from scoped_flows($department, null, $category, $request_type, $channel)
    where district is not null and day < $end::date
),

counts as (
    select
        district,
        sum(count_created) filter (where day >= $start::date) as count_requests,
        sum(count_on_time) filter (where day >= $start::date) as count_on_time,
        sum(count_on_time_eligible) filter (where day >= $start::date) as count_on_time_eligible,
        sum(count_created - count_closed) as count_open_at_end
    from flows
    group by district
),

times_to_close as (
    select district, median(days_to_close) as median_days_to_close
    from scoped_requests($department, null, $category, $request_type, $channel)
    where created_at >= $start and created_at < $end and days_to_close is not null
    group by district
),

final as (
    select
        d.district,
        d.population,
        coalesce(c.count_requests, 0) as count_requests,
        t.median_days_to_close,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        coalesce(c.count_open_at_end, 0) as count_open_at_end,
        1000.0 * coalesce(c.count_requests, 0) / nullif(d.population, 0)
            as requests_per_1000_residents,
        d.center_lat,
        d.center_lon,
        d.geometry_json
    from districts as d
    left join counts as c using (district)
    left join times_to_close as t using (district)
)

select * from final order by district
