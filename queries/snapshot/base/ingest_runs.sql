-- returns: one row per ingest run, as the store keeps them
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: store.ingest_runs
-- incremental: rebuild
with final as (
    select * from store.ingest_runs
)

select * from final
