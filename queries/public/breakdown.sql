-- returns: one row per value of one dimension ($group_by: department, request_type, category, channel or district) with its requests received in the period and in the previous period, median days to close with the requests it rests on (created in the period and closed), on-time rate with its numerator and denominator, and requests open at the end of the period
-- params: group_by VARCHAR, start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily flows and open_now (periods are whole days; open at the end = open now,
-- less the requests created on or after the end, plus those closed on or after it); only the
-- median reads request rows: counted_requests, of the period alone.
with flows as (
    -- by a type dimension: the flows rolled up over district and channel where filters allow
    select
        case $group_by
            when 'department' then department
            when 'request_type' then request_type
            when 'category' then category
        end as group_value,
        day,
        count_created,
        count_on_time,
        count_on_time_eligible,
        count_closed
    from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where $group_by in ('department', 'request_type', 'category') and day >= $prev_start::date
    union all
    select
        case $group_by
            when 'channel' then channel
            when 'district' then district
        end as group_value,
        day,
        count_created,
        count_on_time,
        count_on_time_eligible,
        count_closed
    from scoped_flows($department, $district, $category, $request_type, $channel)
    where $group_by in ('channel', 'district') and day >= $prev_start::date
),

created_figures as (
    select
        group_value,
        sum(count_created) filter (where day >= $start::date) as count_requests,
        sum(count_created) filter (where day < $start::date) as count_requests_previous,
        sum(count_on_time) filter (where day >= $start::date) as count_on_time,
        sum(count_on_time_eligible) filter (where day >= $start::date) as count_on_time_eligible
    from flows
    where day < $end::date
    group by group_value
    having sum(count_created) > 0
),

open_changes as (
    select
        case $group_by
            when 'department' then department
            when 'request_type' then request_type
            when 'category' then category
            when 'channel' then channel
            when 'district' then district
        end as group_value,
        count_open as open_change
    from scoped_open($department, $district, $category, $request_type, $channel)
    union all
    select group_value, -(count_created - count_closed) as open_change
    from flows
    where day >= $end::date
),

open_figures as (
    select group_value, sum(open_change) as count_open_at_end
    from open_changes
    group by group_value
    having sum(open_change) > 0
),

times_to_close as (
    select
        case $group_by
            when 'department' then department
            when 'request_type' then request_type
            when 'category' then category
            when 'channel' then channel
            when 'district' then district
        end as group_value,
        median(days_to_close) as median_days_to_close,
        count(*) as count_with_days_to_close
    from scoped_counted($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date and days_to_close is not null
    group by group_value
),

final as (
    select
        group_value,
        coalesce(c.count_requests, 0)::bigint as count_requests,
        coalesce(c.count_requests_previous, 0)::bigint as count_requests_previous,
        t.median_days_to_close,
        coalesce(t.count_with_days_to_close, 0)::bigint as count_with_days_to_close,
        coalesce(c.count_on_time, 0)::bigint as count_on_time,
        coalesce(c.count_on_time_eligible, 0)::bigint as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        coalesce(o.count_open_at_end, 0)::bigint as count_open_at_end
    from created_figures as c
    full join open_figures as o using (group_value)
    left join times_to_close as t using (group_value)
    where group_value is not null
)

select * from final order by count_requests desc, group_value
