-- returns: one row per request type: its department, target in days, and the median and 90th-percentile days to close of its requests created in the 365 days before the snapshot's as-of time and closed (duplicates left out), with how many that is
-- params: none
-- access: internal
-- The figures are computed at publish (queries/snapshot/staff/type_typical_times.sql).
with final as (
    select
        t.request_type,
        t.department,
        t.target_hours / 24.0 as target_days,
        coalesce(f.count_closed, 0) as count_closed,
        f.median_days_to_close,
        f.p90_days_to_close
    from request_types as t
    left join type_typical_times as f using (request_type)
)

select * from final order by request_type
