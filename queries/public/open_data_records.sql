-- returns: the public records created in the period that match the filters (duplicates included, marked by closure), oldest first, at most $max_rows
-- params: max_rows INTEGER, start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
with filtered as (
    select *
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
        request_id, created_at, updated_at, closed_at, due_at, status, closure,
        department, request_type, category, channel, district, neighborhood, lat, lon, source
    from filtered
)

select * from final order by created_at, request_id limit $max_rows
