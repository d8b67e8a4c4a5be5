-- returns: the internal snapshot's daily_overdue without the aggregate-only types' rows
-- params: aggregate_only VARCHAR[]
-- materialized: table
-- snapshots: public
-- depends: internal.daily_overdue
-- incremental: sums
-- Grouped by request type, so copied, not recounted from the requests (and in the same order).
with final as (
    select * from internal.daily_overdue
    where request_type is null or not list_contains($aggregate_only, request_type)
)

select * from final
