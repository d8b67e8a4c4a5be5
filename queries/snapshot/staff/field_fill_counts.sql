-- returns: per (source, canonical field), the requests the field applies to (closed_at, closure and resolution: the closed ones; every other field: all) and those with it filled (not NULL, and for text not blank)
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: requests
-- incremental: sums; keep: max(count_applicable) over (partition by source) > 0
with filled_counts as (
    select
        coalesce(source, '(unknown)') as source,
        count(*) as count_requests,
        count(nullif(trim(request_id), '')) as request_id,
        count(created_at) as created_at,
        count(updated_at) as updated_at,
        count(closed_at) filter (where status = 'closed') as closed_at,
        count(due_at) as due_at,
        count(nullif(trim(status), '')) as status,
        count(nullif(trim(closure), '')) filter (where status = 'closed') as closure,
        count(nullif(trim(department), '')) as department,
        count(nullif(trim(request_type), '')) as request_type,
        count(nullif(trim(category), '')) as category,
        count(nullif(trim(channel), '')) as channel,
        count(nullif(trim(district), '')) as district,
        count(nullif(trim(neighborhood), '')) as neighborhood,
        count(lat) filter (where lon is not null) as lat_lon,
        count(nullif(trim(address), '')) as address,
        count(nullif(trim(description), '')) as description,
        count(nullif(trim(resolution), '')) filter (where status = 'closed') as resolution,
        count(*) filter (where status = 'closed') as count_closed
    from requests
    group by all
),

long as (
    unpivot filled_counts
    on columns(* exclude (source, count_requests, count_closed))
    into name field value count_filled
),

final as (
    select
        source,
        field,
        case
            when field in ('closed_at', 'closure', 'resolution') then count_closed
            else count_requests
        end as count_applicable,
        count_filled
    from long
)

select * from final order by source, field
