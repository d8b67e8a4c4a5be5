-- returns: the requests matching every given condition (NULL: any), newest first, at most `limit` rows, whole (address, description, resolution included), each with its days to close (closed) or days open so far (open), and the number of matches in all (count_matching, on every row); `address` matches anywhere in the address, case-insensitively, taken literally (% and _ are not wildcards); duplicates only when include_duplicates
-- params: as_of TIMESTAMP, request_id VARCHAR NULL, department VARCHAR NULL, district VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL, status VARCHAR NULL, created_from TIMESTAMP NULL, created_to TIMESTAMP NULL, address VARCHAR NULL, include_duplicates BOOLEAN, limit INTEGER
-- access: internal
with address_pattern as (
    select
        '%' || replace(replace(replace($address, '\', '\\'), '%', '\%'), '_', '\_') || '%'
            as pattern
),

matching as (
    select
        r.request_id,
        r.created_at,
        r.status,
        r.closure,
        r.closed_at,
        r.due_at,
        case
            when r.open_until is null then (epoch($as_of) - epoch(r.created_at)) / 86400.0
            else r.days_to_close
        end as days_taken,
        r.is_overdue,
        r.department,
        r.request_type,
        r.category,
        r.district,
        r.neighborhood,
        r.address,
        r.lat,
        r.lon,
        r.channel,
        r.description,
        r.resolution,
        r.updated_at,
        r.source,
        r.flags
    from requests as r
    cross join address_pattern as a
    where ($include_duplicates or r.closure is distinct from 'duplicate')
      and ($request_id is null or r.request_id = $request_id)
      and ($department is null or r.department = $department)
      and ($district is null or r.district = $district)
      and ($request_type is null or r.request_type = $request_type)
      and ($channel is null or r.channel = $channel)
      and ($status is null or r.status = $status)
      and ($created_from is null or r.created_at >= $created_from)
      and ($created_to is null or r.created_at < $created_to)
      and ($address is null or r.address ilike a.pattern escape '\')
),

final as (
    select *, count(*) over () as count_matching
    from matching
    order by created_at desc, request_id
    limit $limit
)

select * from final order by created_at desc, request_id
