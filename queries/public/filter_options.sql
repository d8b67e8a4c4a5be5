-- returns: one row per (dimension, value) a filter can take (department, district, category, request_type, channel), with the department a category or request type belongs to; request types that are never public at request level are left out
-- params: none
-- access: public
with public_types as (
    select request_type, department, category
    from request_types
    where privacy_tier is distinct from 'aggregate_only'
),

dimension_values as (
    select distinct 'department' as dimension, department as value, department from public_types
    union
    select distinct 'category' as dimension, category as value, department from public_types
    union
    select distinct 'request_type' as dimension, request_type as value, department from public_types
    union
    select 'district' as dimension, district as value, null as department from districts
    union
    select 'channel' as dimension, channel as value, null as department from channels
),

final as (
    select dimension, value, department from dimension_values where value is not null
)

select * from final order by dimension, value, department
