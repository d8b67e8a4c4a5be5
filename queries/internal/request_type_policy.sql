-- returns: one row per request type as this snapshot was published with it: department, category, requests, service target in hours and days, and its privacy tier (no_location, aggregate_only, or 'published in full')
-- params: none
-- access: internal
with final as (
    select
        request_type,
        department,
        category,
        count_requests::bigint as count_requests,
        target_hours,
        target_hours / 24.0 as target_days,
        coalesce(privacy_tier, 'published in full') as privacy_tier
    from request_types
)

select * from final order by department, request_type
