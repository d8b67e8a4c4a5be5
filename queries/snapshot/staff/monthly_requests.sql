-- returns: per (source, month created), the requests (what flags_by_month divides by)
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: requests
-- incremental: sums
with final as (
    select
        coalesce(source, '(unknown)') as source,
        date_trunc('month', created_at)::date as month,
        count(*) as count_requests
    from requests
    group by all
)

select * from final order by source, month
