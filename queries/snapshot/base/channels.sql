-- returns: the channels requests came in by, with their requests (a filter's choices, without scanning the requests)
-- params: none
-- materialized: table
-- snapshots: internal, public
-- depends: requests
-- incremental: sums
with final as (
    select channel, count(*) as count_requests
    from requests
    group by channel
)

select * from final order by channel
