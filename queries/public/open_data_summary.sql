-- returns: one row per request type with the public records created in the period that match the filters (duplicates included), and how many of them have coordinates
-- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily_records (every record, per day of creation: civicstat/publish.py);
-- periods are whole days.
with filtered as (
    select request_type, department, count_records, count_with_location
    from daily_records
    where day >= $start::date and day < $end::date
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
        sum(count_records)::bigint as count_records,
        sum(count_with_location)::bigint as count_with_location
    from filtered
    group by request_type
)

select * from final order by count_records desc, request_type
