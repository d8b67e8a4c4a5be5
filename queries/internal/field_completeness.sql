-- returns: one row per (source, canonical field): how many requests the source has, how many have the field filled (not NULL and not blank), and that share
-- params: none
-- access: internal
-- The counts are made at publish (queries/snapshot/staff/field_fill_counts.sql): this reads a
-- few rows per source, never the request rows.
with final as (
    select
        source,
        field,
        count_applicable,
        count_filled,
        count_filled / nullif(count_applicable, 0) as share_filled
    from field_fill_counts
)

select * from final order by source, share_filled, field
