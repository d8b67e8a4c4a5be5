-- returns: one row per data source with its requests and the first and last created time
-- params: none
-- access: public
with final as (
    select source, count_requests, first_created_at, last_created_at
    from sources
)

select * from final order by source
