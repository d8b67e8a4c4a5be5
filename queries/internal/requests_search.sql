-- returns: the requests matching every given condition (NULL: any), newest first, at most `limit` rows, whole (address, description, resolution included), each with its days to close (closed) or days open so far (open), and the number of matches in all (count_matching, on every row); `address` matches anywhere in the address, case-insensitively, taken literally (% and _ are not wildcards); duplicates only when include_duplicates
-- params: as_of TIMESTAMP, request_id VARCHAR NULL, department VARCHAR NULL, district VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL, status VARCHAR NULL, created_from TIMESTAMP NULL, created_to TIMESTAMP NULL, address VARCHAR NULL, include_duplicates BOOLEAN, limit INTEGER
-- access: internal
-- Requests are stored in created_at order. The matches are counted per day of creation from the
-- columns the conditions name; the newest `limit` of them were all created on or after the last
-- day from which on there are at least `limit` matches, so only the rows created from that day
-- on are read whole and ordered: a narrow pass over the period, then a few row groups at its end,
-- however many requests match. (created_at is never NULL: ingest quarantines such records.)
with address_pattern as (
    select
        '%' || replace(replace(replace($address, '\', '\\'), '%', '\%'), '_', '\_') || '%'
            as pattern
),

matching as not materialized (
    select r.*
    from requests as r
    cross join address_pattern as a
    where
        ($include_duplicates or is_not_duplicate(r.closure))
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

matches_per_day as (
    select created_at::date as day, count(*) as count_matching
    from matching
    group by all
),

counted as (
    select coalesce(sum(count_matching), 0)::bigint as count_matching from matches_per_day
),

first_listed_day as (
    select coalesce(max(day) filter (where count_from_day >= $limit), min(day)) as day
    from (
        select day, sum(count_matching) over (order by day desc) as count_from_day
        from matches_per_day
    ) as running
),

listed as (
    select
        m.request_id,
        m.created_at,
        m.status,
        m.closure,
        m.closed_at,
        m.due_at,
        case
            when m.open_until is null then (epoch($as_of) - epoch(m.created_at)) / 86400.0
            else m.days_to_close
        end as days_taken,
        m.is_overdue,
        m.department,
        m.request_type,
        m.category,
        m.district,
        m.neighborhood,
        m.address,
        m.lat,
        m.lon,
        m.channel,
        m.description,
        m.resolution,
        m.updated_at,
        m.source,
        m.flags
    from matching as m
    where m.created_at >= (select day from first_listed_day)
    order by m.created_at desc, m.request_id
    limit $limit
),

final as (
    select listed.*, counted.count_matching
    from listed
    cross join counted
)

select * from final order by created_at desc, request_id
