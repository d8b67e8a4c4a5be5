-- returns: one row per request type with the public records created in the period that match the filters (duplicates included), how many of them are duplicates and how many have coordinates
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with filtered as (
    select request_type, department, lat, closure
    from requests
    where
        created_at >= $start and created_at < $end
        and matches_filters(
            department, district, category, request_type, channel,
            $department, $district, $category, $request_type, $channel
        )
),

final as (
    select
        request_type,
        any_value(department) as department,
        count(*) as count_records,
        count(*) filter (where not is_not_duplicate(closure)) as count_duplicates,
        count(lat) as count_with_location
    from filtered
    group by request_type
)

select * from final order by count_records desc, request_type
