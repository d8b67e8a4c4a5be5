-- returns: per (source, month created, flag), the requests carrying the flag ingest set, or closed_as_duplicate (is_not_duplicate false)
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: requests, is_not_duplicate
-- incremental: sums
with requests_by_month as (
    select
        coalesce(source, '(unknown)') as source,
        date_trunc('month', created_at)::date as month,
        coalesce(flags, [])
        || case when is_not_duplicate(closure) then [] else ['closed_as_duplicate'] end
            as all_flags
    from requests
),

flagged as (
    select source, month, unnest(all_flags) as flag
    from requests_by_month
    where len(all_flags) > 0
),

final as (
    select source, month, flag, count(*) as count_flagged
    from flagged
    group by all
)

select * from final order by source, month, flag
