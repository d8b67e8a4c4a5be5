-- returns: the public requests: the internal snapshot's rows without the aggregate-only types, with only the public columns (coordinates coarsened, or removed for no_location types) and the derived columns
-- params: aggregate_only VARCHAR[], no_location VARCHAR[]
-- materialized: table
-- snapshots: public
-- depends: internal.requests
-- incremental: rows by request_id
-- The column lists are spliced in from civicstat/core/privacy.py (public_select_list) and
-- civicstat/core/definitions.py. Plain filters on the type (no join), so the rows stream through
-- in the internal snapshot's order (created_at), sorted once there.
with tiered as (
    select
        r.*,
        case when list_contains($no_location, r.request_type) then 'no_location' end as privacy_tier
    from internal.requests as r
    where r.request_type is null or not list_contains($aggregate_only, r.request_type)
),

final as (
    select {{ public_columns }}, {{ derived_column_names }}
    from tiered as r
)

select * from final
