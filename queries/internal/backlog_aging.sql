-- returns: one row per department, request type or district (by) and one row for all of them (is_total): requests open now (definitions: civicstat/core/definitions.py) by age (0-7, 8-30, 31-90, over 90 whole days since created), all open, open over a year, overdue (open and past due_at), and the median and oldest age in days
-- params: by VARCHAR, as_of TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: internal
-- Reads open_requests (the requests open now, built at publish), never the request rows.
with open_requests as (
    select
        coalesce(
            case $by
                when 'department' then department
                when 'request_type' then request_type
                when 'district' then district
                else error('backlog_aging: by must be department, request_type or district')
            end,
            '(not set)'
        ) as group_key,
        floor((epoch($as_of) - epoch(created_at)) / 86400.0) as age_days,
        is_overdue
    from scoped_open_requests($department, $district, $category, $request_type, $channel)
),

final as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        count(*) filter (where age_days <= 7) as count_age_0_7,
        count(*) filter (where age_days between 8 and 30) as count_age_8_30,
        count(*) filter (where age_days between 31 and 90) as count_age_31_90,
        count(*) filter (where age_days > 90) as count_age_over_90,
        count(*) filter (where age_days > 365) as count_age_over_365,
        count(*) as count_open,
        count_if(is_overdue) as count_overdue,
        median(age_days) as median_age_days,
        max(age_days) as max_age_days
    from open_requests
    group by grouping sets ((group_key), ())
)

select * from final order by is_total desc, count_open desc, group_key
