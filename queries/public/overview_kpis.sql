-- returns: two rows (period = 'current', 'previous') with the Overview's headline figures: requests received, median and 90th-percentile days to close with the requests they rest on (created in the period and closed), on-time rate with its numerator and denominator, and requests open at the end of the period (definitions: civicstat/core/definitions.py)
-- params: start TIMESTAMP, end TIMESTAMP, prev_start TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Counts come from daily flows (scoped_type_flows; periods are whole days). Open at midnight
-- D = open now, less the requests created on or after D, plus those closed on or after D
-- (queries/snapshot/flows/open_now.sql): only the days from the period's start on are read. The
-- quantiles read the two periods' rows of counted_requests.
with flows as (
    select * from scoped_type_flows($department, $district, $category, $request_type, $channel)
    where day >= $prev_start::date
),

counts as (
    select
        case when day >= $start::date then 'current' else 'previous' end as period,
        sum(count_created) as count_requests,
        sum(count_on_time) as count_on_time,
        sum(count_on_time_eligible) as count_on_time_eligible
    from flows
    where day < $end::date
    group by period
),

open_now as (
    select coalesce(sum(count_open), 0) as count_open
    from scoped_open($department, $district, $category, $request_type, $channel)
),

changes_since as (
    select
        coalesce(sum(count_created - count_closed) filter (where day >= $end::date), 0)
            as since_end,
        coalesce(sum(count_created - count_closed), 0) as since_start
    from flows
    where day >= $start::date
),

open_counts as (
    select
        open_now.count_open - changes_since.since_end as current_open,
        open_now.count_open - changes_since.since_start as previous_open
    from open_now
    cross join changes_since
),

times_to_close as (
    -- each period's rows read on their own (faster than grouping both periods' rows by period)
    select
        'current' as period,
        quantile_cont(days_to_close, [0.5, 0.9]) as quantiles,
        count(*) as count_with_days_to_close
    from scoped_counted($department, $district, $category, $request_type, $channel)
    where day >= $start::date and day < $end::date and days_to_close is not null
    union all
    select
        'previous' as period,
        quantile_cont(days_to_close, [0.5, 0.9]) as quantiles,
        count(*) as count_with_days_to_close
    from scoped_counted($department, $district, $category, $request_type, $channel)
    where day >= $prev_start::date and day < $start::date and days_to_close is not null
),

periods as (
    select 'current' as period
    union all
    select 'previous' as period
),

final as (
    select
        periods.period,
        coalesce(c.count_requests, 0)::bigint as count_requests,
        t.quantiles[1] as median_days_to_close,
        t.quantiles[2] as p90_days_to_close,
        coalesce(t.count_with_days_to_close, 0)::bigint as count_with_days_to_close,
        coalesce(c.count_on_time, 0)::bigint as count_on_time,
        coalesce(c.count_on_time_eligible, 0)::bigint as count_on_time_eligible,
        c.count_on_time / nullif(c.count_on_time_eligible, 0) as on_time_rate,
        (case when periods.period = 'current' then o.current_open else o.previous_open end)::bigint
            as count_open_at_end
    from periods
    left join counts as c using (period)
    left join times_to_close as t using (period)
    cross join open_counts as o
)

select * from final order by period
