-- returns: one row per data source with its requests and the first and last created time
-- params: none
-- materialized: table
-- snapshots: internal, public
-- depends: store.requests
-- incremental: rebuild
with final as (
    select
        source,
        count(*) as count_requests,
        min(created_at) as first_created_at,
        max(created_at) as last_created_at
    from store.requests
    group by source
)

select * from final order by source
