-- returns: one row per district with its requests received in the period, median days to close, on-time rate, requests open at the end of the period, population, requests per 1,000 residents, and its map centre and simplified boundary (GeoJSON, WGS84)
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with scoped as (
    select district, created_at, days_to_close, is_on_time, open_until
    from scoped_requests($department, null, $category, $request_type, $channel)
    where district is not null
),

created_figures as (
    select
        district,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        count_if(is_on_time) as count_on_time,
        count(is_on_time) as count_on_time_eligible
    from scoped
    where created_at >= $start and created_at < $end
    group by district
),

open_figures as (
    select district, count(*) as count_open_at_end
    from scoped
    where created_at < $end and (open_until is null or open_until >= $end)
    group by district
),

final as (
    select
        d.district,
        d.population,
        coalesce(c.count_requests, 0) as count_requests,
        c.median_days_to_close,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        coalesce(o.count_open_at_end, 0) as count_open_at_end,
        1000.0 * coalesce(c.count_requests, 0) / nullif(d.population, 0)
            as requests_per_1000_residents,
        d.center_lat,
        d.center_lon,
        d.geometry_json
    from districts as d
    left join created_figures as c using (district)
    left join open_figures as o using (district)
)

select * from final order by district
