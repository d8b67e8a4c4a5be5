-- returns: one row per department (level 'department') or request type (level 'request_type'), plus one row for all of them (is_total), with the department it belongs to (the department filter for the total row), and requests created in the period and in the previous period of the same length, median and 90th-percentile days to close, on-time numerator, denominator and rate, the median target in days (the median over those requests of their type's target), and the requests open and overdue at the end of each period (definitions: civicstat/definitions.py)
-- params: level VARCHAR, start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, as_of TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: internal
with scoped as (
    select
        coalesce(
            case $level
                when 'department' then r.department
                when 'request_type' then r.request_type
                else error('scorecard: level must be department or request_type')
            end,
            '(not set)'
        ) as group_key,
        r.created_at,
        r.due_at,
        r.days_to_close,
        r.is_on_time,
        r.open_until,
        t.target_hours
    from scoped_requests($department, $district, $category, $request_type, $channel) as r
    left join request_types as t using (request_type)
    where r.created_at < $end
),

created_in_window as (
    select
        group_key,
        case when created_at >= $start then 'current' else 'previous' end as period,
        days_to_close,
        is_on_time,
        target_hours
    from scoped
    where created_at >= $prev_start
),

created_figures as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        period,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close,
        count_if(is_on_time) as count_on_time,
        count(is_on_time) as count_on_time_eligible,
        median(target_hours) / 24.0 as median_target_days
    from created_in_window
    group by grouping sets ((group_key, period), (period))
),

open_flags as (
    select
        group_key,
        due_at,
        open_until is null or open_until >= $end as is_open_at_end,
        created_at < $start and (open_until is null or open_until >= $start) as is_open_at_start
    from scoped
),

open_figures as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        count(*) filter (where is_open_at_end) as count_open,
        count(*) filter (where is_open_at_end and due_at < least($end, $as_of)) as count_overdue,
        count(*) filter (where is_open_at_start) as prev_count_open,
        count(*) filter (where is_open_at_start and due_at < $start) as prev_count_overdue
    from open_flags
    where is_open_at_end or is_open_at_start
    group by grouping sets ((group_key), ())
),

groups as (
    select group_key, is_total from created_figures
    union
    select group_key, is_total from open_figures
),

final as (
    select
        g.group_key,
        g.is_total,
        case
            when g.is_total then $department
            when $level = 'department' then g.group_key
            else t.department
        end as department,
        coalesce(c.count_requests, 0) as count_requests,
        coalesce(p.count_requests, 0) as prev_count_requests,
        c.median_days_to_close,
        p.median_days_to_close as prev_median_days_to_close,
        c.p90_days_to_close,
        p.p90_days_to_close as prev_p90_days_to_close,
        coalesce(c.count_on_time, 0) as count_on_time,
        coalesce(c.count_on_time_eligible, 0) as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        p.count_on_time / nullif(p.count_on_time_eligible, 0) as prev_on_time_rate,
        c.median_target_days,
        p.median_target_days as prev_median_target_days,
        coalesce(o.count_open, 0) as count_open,
        coalesce(o.prev_count_open, 0) as prev_count_open,
        coalesce(o.count_overdue, 0) as count_overdue,
        coalesce(o.prev_count_overdue, 0) as prev_count_overdue
    from groups as g
    left join created_figures as c
        on c.group_key = g.group_key and c.is_total = g.is_total and c.period = 'current'
    left join created_figures as p
        on p.group_key = g.group_key and p.is_total = g.is_total and p.period = 'previous'
    left join open_figures as o
        on o.group_key = g.group_key and o.is_total = g.is_total
    left join request_types as t
        on $level = 'request_type' and not g.is_total and t.request_type = g.group_key
)

select * from final order by is_total desc, group_key
