-- returns: per (source, month created, flag), the requests carrying the flag ingest set, or closed_as_duplicate (is_not_duplicate false), with all requests of that source and month
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: requests, is_not_duplicate
-- incremental: rebuild
with requests_by_month as (
    select
        coalesce(source, '(unknown)') as source,
        date_trunc('month', created_at)::date as month,
        coalesce(flags, [])
        || case when is_not_duplicate(closure) then [] else ['closed_as_duplicate'] end
            as all_flags
    from requests
),

month_totals as (
    select source, month, count(*) as count_requests
    from requests_by_month
    group by all
),

flagged as (
    select source, month, unnest(all_flags) as flag
    from requests_by_month
    where len(all_flags) > 0
),

final as (
    select f.source, f.month, f.flag, count(*) as count_flagged, t.count_requests
    from flagged as f
    inner join month_totals as t using (source, month)
    group by all
)

select * from final order by source, month, flag
