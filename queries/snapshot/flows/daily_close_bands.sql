-- returns: per day of creation, dimension values and band of days to close (days_to_close_bands), the requests created that day and closed (counted like performance_requests) that took that long
-- params: none
-- materialized: table
-- snapshots: public
-- depends: counted_requests, days_to_close_bands
-- incremental: sums
-- A request's band is the last whose low_days it reaches: the bands' lower bounds are read once,
-- as one list, so each row is only compared with a few numbers (no join).
with bounds as (
    select
        list(low_days order by band_order) as low_days,
        list(band_order order by band_order) as band_orders
    from days_to_close_bands
),

final as (
    select
        c.day, c.department, c.category, c.request_type, c.district, c.channel,
        b.band_orders[len(list_filter(b.low_days, lambda low: low <= c.days_to_close))]::integer
            as band_order,
        count(*)::integer as count_closed
    from counted_requests as c
    cross join bounds as b
    where c.days_to_close is not null
    group by all
)

select * from final order by day
