-- returns: one row per (dimension, value) a filter can take: department, district, category, request_type, channel
-- params: none
-- access: public
with dimension_values as (
    select 'department' as dimension, department as value from request_types
    union
    select 'category', category from request_types
    union
    select 'request_type', request_type from request_types
    union
    select 'district', district from districts
    union
    select 'channel', channel from (select distinct channel from requests)
),

final as (
    select dimension, value from dimension_values where value is not null
)

select * from final order by dimension, value
