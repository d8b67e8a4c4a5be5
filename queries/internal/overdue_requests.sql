-- returns: the overdue requests (open now and past due_at: is_overdue, civicstat/core/definitions.py), most overdue first, at most `limit` rows, each with how many days late it is, its age, where and what it is, and the number of overdue requests in all (count_overdue, on every row)
-- params: as_of TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL, limit INTEGER
-- access: internal
-- Reads open_requests (the requests open now, sorted by due_at, built at publish).
with overdue as (
    select
        request_id,
        (epoch($as_of) - epoch(due_at)) / 86400.0 as days_late,
        floor((epoch($as_of) - epoch(created_at)) / 86400.0) as age_days,
        created_at,
        due_at,
        department,
        request_type,
        district,
        address,
        channel
    from scoped_open_requests($department, $district, $category, $request_type, $channel)
    where is_overdue
),

final as (
    select *, count(*) over () as count_overdue
    from overdue
    order by due_at, request_id
    limit $limit
)

select * from final order by due_at, request_id
