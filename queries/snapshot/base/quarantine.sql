-- returns: the records ingest could not use, as the store keeps them
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: store.quarantine
-- incremental: rebuild
with final as (
    select * from store.quarantine
)

select * from final
