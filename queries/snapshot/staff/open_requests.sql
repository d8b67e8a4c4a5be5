-- returns: the requests open now (counted like performance_requests) with what the backlog and the overdue list show, most overdue first
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: performance_requests
-- incremental: rows by request_id
-- Typically 1–5% of the rows, for the Backlog page and the scorecard's overdue column. Sorted by
-- due date (then id), as the overdue list is: its first rows are the most overdue.
with final as (
    select
        request_id, created_at, due_at, department, category, request_type, district, channel,
        address, is_overdue
    from performance_requests
    where open_until is null
)

select * from final order by due_at nulls last, request_id
