-- returns: per dimension values, the requests open now (at the as-of time; counted like performance_requests) and how many of them have a due date
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests
-- incremental: sums
-- With daily_flows this gives the requests open at any midnight D from the days on and after D
-- only (which are few: periods end at the as-of day):
--   open at D = count_open − Σ_{day ≥ D} (count_created − count_closed),
-- because Σ over all days of (count_created − count_closed) is the requests never closed. The
-- same holds for daily_overdue with count_open_with_due_at (see there).
with final as (
    select
        department, category, request_type, district, channel,
        count(*)::integer as count_open,
        count(due_at)::integer as count_open_with_due_at
    from performance_requests
    where open_until is null
    group by all
)

select * from final order by all
