-- returns: one row per department (level 'department') or request type (level 'request_type'), plus one row for all of them (is_total), with the department it belongs to (the department filter for the total row), and requests created in the period and in the previous period of the same length, median and 90th-percentile days to close with the closed requests they rest on (count_with_days_to_close), on-time numerator, denominator and rate, the median target in days (the median over those requests of their type's target), and the requests open and overdue at the end of each period (definitions: civicstat/core/definitions.py)
-- params: level VARCHAR, start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, as_of TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: internal
-- Periods are whole days (start, end and prev_start are midnights) and as_of is the snapshot's
-- as-of time. No request row is read but the closed ones' days_to_close (close_times) and, when
-- the period ends after the as-of time, the open ones (open_requests); see the models
-- in queries/snapshot (flows/, staff/):
-- - counts and on-time counts: daily flows (scoped_type_flows) of the days in the two periods;
-- - the median target: the requests created per request type (daily flows), weighted by type;
-- - open at midnight D: open now − Σ_{day ≥ D} (created − closed) (open_now, daily flows);
-- - open and past due at midnight D: open now with a due date − Σ_{day ≥ D} (became − stopped
--   overdue) (daily_overdue); at an end after the as-of time: open now and due before as_of.
with flows as (
    select
        coalesce(
            case $level
                when 'department' then department
                when 'request_type' then request_type
                else error('scorecard: level must be department or request_type')
            end,
            '(not set)'
        ) as group_key,
        request_type,
        day,
        count_created,
        count_on_time,
        count_on_time_eligible,
        count_closed
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $prev_start::date
),

created_by_type as (
    select
        group_key,
        request_type,
        case when day >= $start::date then 'current' else 'previous' end as period,
        sum(count_created) as count_requests,
        sum(count_on_time) as count_on_time,
        sum(count_on_time_eligible) as count_on_time_eligible
    from flows
    where day < $end::date and count_created > 0
    group by all
),

created_counts as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        sum(count_requests) filter (where period = 'current')::bigint as count_requests,
        sum(count_requests) filter (where period = 'previous')::bigint as prev_count_requests,
        sum(count_on_time) filter (where period = 'current')::bigint as count_on_time,
        sum(count_on_time) filter (where period = 'previous')::bigint as prev_count_on_time,
        sum(count_on_time_eligible) filter (where period = 'current')::bigint
            as count_on_time_eligible,
        sum(count_on_time_eligible) filter (where period = 'previous')::bigint
            as prev_count_on_time_eligible
    from created_by_type
    group by grouping sets ((group_key), ())
),

-- The median of the requests' type targets: each target weighs as many requests as have it.
-- quantile_cont(0.5) over n values is the value at 0-based position (n − 1) / 2, interpolated
-- between the values at its floor and ceiling.
target_weights as (
    select
        coalesce(c.group_key, '') as group_key,
        grouping(c.group_key) = 1 as is_total,
        c.period,
        t.target_hours,
        sum(c.count_requests) as count_requests
    from created_by_type as c
    join request_types as t using (request_type)
    where t.target_hours is not null
    group by grouping sets ((c.group_key, c.period, t.target_hours), (c.period, t.target_hours))
),

target_ranks as (
    select
        group_key,
        is_total,
        period,
        target_hours,
        sum(count_requests) over same_list as count_up_to,
        (sum(count_requests) over whole_list - 1) / 2 as position
    from target_weights
    window
        same_list as (partition by group_key, is_total, period order by target_hours),
        whole_list as (partition by group_key, is_total, period)
),

median_targets as (
    select
        group_key,
        is_total,
        period,
        min(target_hours) filter (where count_up_to > floor(position)) as low_target,
        min(target_hours) filter (where count_up_to > ceil(position)) as high_target,
        any_value(position - floor(position)) as fraction
    from target_ranks
    group by all
),

median_targets_by_group as (
    select
        group_key,
        is_total,
        any_value(
            (low_target + (high_target - low_target) * fraction) / 24.0
        ) filter (where period = 'current') as median_target_days,
        any_value(
            (low_target + (high_target - low_target) * fraction) / 24.0
        ) filter (where period = 'previous') as prev_median_target_days
    from median_targets
    group by all
),

times_to_close as (
    select
        coalesce(
            case $level when 'department' then department else request_type end, '(not set)'
        ) as group_key,
        day,
        days_to_close
    from scoped_close_times($department, $district, $category, $request_type, $channel)
    where day >= $prev_start::date and day < $end::date
),

quantiles as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        quantile_cont(days_to_close, [0.5, 0.9]) filter (where day >= $start::date) as current_days,
        quantile_cont(days_to_close, [0.5, 0.9]) filter (where day < $start::date) as previous_days,
        count(*) filter (where day >= $start::date) as count_with_days_to_close
    from times_to_close
    group by grouping sets ((group_key), ())
),

created_figures as (
    select
        c.*,
        q.current_days[1] as median_days_to_close,
        q.previous_days[1] as prev_median_days_to_close,
        q.current_days[2] as p90_days_to_close,
        q.previous_days[2] as prev_p90_days_to_close,
        q.count_with_days_to_close,
        m.median_target_days,
        m.prev_median_target_days
    from created_counts as c
    left join quantiles as q using (group_key, is_total)
    left join median_targets_by_group as m using (group_key, is_total)
),

open_now as (
    select
        coalesce(
            case $level when 'department' then department else request_type end, '(not set)'
        ) as group_key,
        sum(count_open) as count_open,
        sum(count_open_with_due_at) as count_open_with_due_at
    from scoped_open($department, $district, $category, $request_type, $channel)
    group by all
),

open_changes as (
    select
        group_key,
        sum(count_created - count_closed) filter (where day >= $end::date) as since_end,
        sum(count_created - count_closed) as since_start
    from flows
    where day >= $start::date
    group by all
),

overdue_changes as (
    select
        coalesce(
            case $level when 'department' then department else request_type end, '(not set)'
        ) as group_key,
        sum(count_became_overdue - count_stopped_overdue) filter (where day >= $end::date)
            as since_end,
        sum(count_became_overdue - count_stopped_overdue) as since_start
    from scoped_overdue($department, $district, $category, $request_type, $channel)
    where day >= $start::date
    group by all
),

overdue_at_as_of as (
    select
        coalesce(
            case $level when 'department' then department else request_type end, '(not set)'
        ) as group_key,
        count(*) as count_overdue
    from scoped_open_requests($department, $district, $category, $request_type, $channel)
    where $end > $as_of and due_at < $as_of
    group by all
),

open_by_group as (
    select
        group_key,
        coalesce(n.count_open, 0) - coalesce(c.since_end, 0) as count_open,
        case
            when $end > $as_of then coalesce(a.count_overdue, 0)
            else coalesce(n.count_open_with_due_at, 0) - coalesce(o.since_end, 0)
        end as count_overdue,
        coalesce(n.count_open, 0) - coalesce(c.since_start, 0) as prev_count_open,
        coalesce(n.count_open_with_due_at, 0) - coalesce(o.since_start, 0) as prev_count_overdue
    from open_now as n
    full join open_changes as c using (group_key)
    full join overdue_changes as o using (group_key)
    full join overdue_at_as_of as a using (group_key)
),

open_figures as (
    select
        coalesce(group_key, '') as group_key,
        grouping(group_key) = 1 as is_total,
        sum(count_open)::bigint as count_open,
        sum(count_overdue)::bigint as count_overdue,
        sum(prev_count_open)::bigint as prev_count_open,
        sum(prev_count_overdue)::bigint as prev_count_overdue
    from open_by_group
    where count_open > 0 or prev_count_open > 0
    group by grouping sets ((group_key), ())
),

final as (
    select
        group_key,
        is_total,
        case
            when is_total then $department
            when $level = 'department' then group_key
            else t.department
        end as department,
        coalesce(c.count_requests, 0) as count_requests,
        coalesce(c.prev_count_requests, 0) as prev_count_requests,
        c.median_days_to_close,
        c.prev_median_days_to_close,
        c.p90_days_to_close,
        c.prev_p90_days_to_close,
        coalesce(c.count_with_days_to_close, 0)::bigint as count_with_days_to_close,
        coalesce(c.count_on_time, 0) as count_on_time,
        coalesce(c.count_on_time_eligible, 0) as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        c.prev_count_on_time / nullif(c.prev_count_on_time_eligible, 0) as prev_on_time_rate,
        c.median_target_days,
        c.prev_median_target_days,
        coalesce(o.count_open, 0) as count_open,
        coalesce(o.prev_count_open, 0) as prev_count_open,
        coalesce(o.count_overdue, 0) as count_overdue,
        coalesce(o.prev_count_overdue, 0) as prev_count_overdue
    from created_figures as c
    full join open_figures as o using (group_key, is_total)
    left join request_types as t
        on $level = 'request_type' and not is_total and t.request_type = group_key
)

select * from final order by is_total desc, group_key
