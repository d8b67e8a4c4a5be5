-- returns: one row per (dimension, value) a staff filter can take (department, district, category, request_type, channel, status, source), with the department a category or request type belongs to; every request type, the sensitive ones included
-- params: none
-- access: internal
with dimension_values as (
    select distinct 'department' as dimension, department as value, department from request_types
    union
    select distinct 'category', category, department from request_types
    union
    select distinct 'request_type', request_type, department from request_types
    union
    select 'district', district, null from districts
    union
    select 'channel', channel, null from channels
    union
    select 'status', status, null from statuses
    union
    select 'source', source, null from sources
),

final as (
    select dimension, value, department from dimension_values where value is not null
)

select * from final order by dimension, value, department
