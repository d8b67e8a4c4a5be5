-- returns: one row: the latitude the map's flat projection is taken at (the districts' centre, else the requests')
-- params: none
-- materialized: table
-- snapshots: public
-- depends: districts, requests
-- incremental: rebuild
with final as (
    select
        coalesce(
            (select avg(center_lat) from districts),
            (select avg(lat) from requests),
            0
        ) as ref_lat
)

select * from final
