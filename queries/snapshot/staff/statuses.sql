-- returns: the statuses in the data with their requests (a filter's choices, without scanning the requests)
-- params: none
-- materialized: table
-- snapshots: internal
-- depends: requests
-- incremental: sums
with final as (
    select status, count(*) as count_requests
    from requests
    group by status
)

select * from final order by status
