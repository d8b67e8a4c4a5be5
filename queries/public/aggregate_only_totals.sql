-- returns: one row per request type published only as city-wide counts (privacy tier aggregate_only), with its requests received in the period (by month of creation: months that overlap the period count whole)
-- params: start TIMESTAMP, end TIMESTAMP
-- access: public
with in_period as (
    select request_type, sum(count_requests) as count_requests
    from aggregate_only_monthly
    where month >= date_trunc('month', $start::timestamp) and month < $end
    group by request_type
),

final as (
    select t.request_type, t.department, coalesce(p.count_requests, 0)::bigint as count_requests
    from request_types as t
    left join in_period as p using (request_type)
    where t.privacy_tier = 'aggregate_only'
)

select * from final order by request_type
