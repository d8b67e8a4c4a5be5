-- returns: one row per request type with the public records created in the period that match the filters (duplicates included), and how many of them have coordinates
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with filtered as (
    select request_type, department, lat
    from requests
    where
        created_at >= $start and created_at < $end
        and ($department is null or department = $department)
        and ($district is null or district = $district)
        and ($category is null or category = $category)
        and ($request_type is null or request_type = $request_type)
        and ($channel is null or channel = $channel)
),

final as (
    select
        request_type,
        any_value(department) as department,
        count(*) as count_records,
        count(lat) as count_with_location
    from filtered
    group by request_type
)

select * from final order by count_records desc, request_type
