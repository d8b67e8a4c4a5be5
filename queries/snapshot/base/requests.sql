-- returns: every request in the store, whole, with the derived columns (civicstat/core/definitions.py), in created_at order
-- params: as_of TIMESTAMP NULL
-- materialized: table
-- snapshots: internal
-- depends: store.requests
-- incremental: rows by request_id
-- The columns are the canonical schema's (civicstat/core/schema.py) and the derived ones, spliced
-- in from Python; the as-of time they use is bound. Sorted once here: the public snapshot's rows
-- are read from this table in this order.
with final as (
    select {{ columns }}, r.flags, {{ derived_columns }}
    from store.requests as r
)

select * from final order by created_at
