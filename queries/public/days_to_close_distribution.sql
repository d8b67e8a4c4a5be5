-- returns: one row per band of days to close (under 1 day, 1–2, 2–3, 3–7, 7–14, 14–30, 30–90, over 90 days) with the requests created in the period and closed that took that long, and their share of all such requests
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- The bands and the counts per day of creation come from the snapshot (days_to_close_bands,
-- daily_close_bands: queries/snapshot/flows); periods are whole days.
with counted as (
    select band_order, sum(count_closed) as count_requests
    from scoped_close_bands($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date
    group by band_order
),

final as (
    select
        bands.band_order,
        bands.band_label,
        coalesce(counted.count_requests, 0)::bigint as count_requests,
        coalesce(counted.count_requests, 0)
        / nullif(sum(coalesce(counted.count_requests, 0)) over (), 0) as share_of_closed
    from days_to_close_bands as bands
    left join counted using (band_order)
)

select * from final order by band_order
