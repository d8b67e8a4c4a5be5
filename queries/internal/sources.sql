-- returns: one row per source (adapter / file) in the internal snapshot: its requests and the first and last created_at
-- params: none
-- access: internal
with final as (
    select source, count_requests, first_created_at, last_created_at from sources
)

select * from final order by source
