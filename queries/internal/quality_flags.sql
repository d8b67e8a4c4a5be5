-- returns: one row per (source, month created, flag) with the requests carrying the flag and all requests of that source and month; the flags are those ingest set (closed_before_created, no_coordinates, placeholder_coordinates, outside_city, unknown_status, duplicate_id_in_file) plus closed_as_duplicate (closure = duplicate)
-- params: none
-- access: internal
with requests_by_month as (
    select
        coalesce(source, '(unknown)') as source,
        date_trunc('month', created_at)::date as month,
        coalesce(flags, []) || case when closure = 'duplicate' then ['closed_as_duplicate'] else [] end
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
    join month_totals as t using (source, month)
    group by all
)

select * from final order by source, month, flag
