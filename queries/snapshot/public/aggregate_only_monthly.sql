-- returns: per aggregate-only request type and month of creation, its requests counted like performance_requests (city-wide: these types never appear request by request)
-- params: aggregate_only VARCHAR[]
-- materialized: table
-- snapshots: public
-- depends: internal.performance_requests
-- incremental: sums
-- Read from the internal snapshot: the public one has no rows of these types. The public pages
-- show these counts with small counts suppressed.
with final as (
    select
        request_type,
        date_trunc('month', created_at)::date as month,
        count(*) as count_requests
    from internal.performance_requests
    where list_contains($aggregate_only, request_type)
    group by all
)

select * from final order by all
