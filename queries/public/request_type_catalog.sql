-- returns: one row per request type with its department, category, service-level target in hours and privacy tier (NULL, no_location or aggregate_only)
-- params: none
-- access: public
with final as (
    select request_type, department, category, target_hours, privacy_tier
    from request_types
    where request_type is not null
)

select * from final order by department, category, request_type
