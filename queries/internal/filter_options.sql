-- returns: one row per (dimension, value) a staff filter can take (department, district, category, request_type, channel, status, source), with the department a category or request type belongs to; every request type, the sensitive ones included
-- params: none
-- access: internal
with dimension_values as (
    select distinct 'department' as dimension, department as value, department from request_types
    union
    select distinct 'category' as dimension, category as value, department from request_types
    union
    select distinct 'request_type' as dimension, request_type as value, department from request_types
    union
    select 'district' as dimension, district as value, null as department from districts
    union
    select 'channel' as dimension, channel as value, null as department from channels
    union
    select 'status' as dimension, status as value, null as department from statuses
    union
    select 'source' as dimension, source as value, null as department from sources
),

final as (
    select dimension, value, department from dimension_values where value is not null
)

select * from final order by dimension, value, department
