-- returns: the internal snapshot's open_now without the aggregate-only types' rows
-- params: aggregate_only VARCHAR[]
-- materialized: table
-- snapshots: public
-- depends: internal.open_now
-- incremental: sums
-- Grouped by request type, so copied, not recounted from the requests (and in the same order).
with final as (
    select * from internal.open_now
    where request_type is null or not list_contains($aggregate_only, request_type)
)

select * from final
