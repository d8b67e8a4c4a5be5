-- returns: requests created in the period binned into hexagons of circumradius $cell_km (pointy-top, on a local flat projection around the city's centre): one row per hexagon with its axial coordinates, centre, the reference latitude of the projection, its requests and their median days to close with the requests it rests on (closed); at most 50,000 rows; requests without coordinates are left out
-- params: cell_km DOUBLE, start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL, district VARCHAR NULL, category VARCHAR NULL, request_type VARCHAR NULL, channel VARCHAR NULL
-- access: public
-- Reads the period's rows of counted_requests (requests that count in performance figures, per
-- day of creation: periods are whole days).
with reference as (
    -- the districts' mean centre latitude, else the requests' mean latitude (map_reference)
    select ref_lat from map_reference
),

located as (
    select
        lon * 111.320 * cos(radians(reference.ref_lat)) / $cell_km as x,
        lat * 110.574 / $cell_km as y,
        days_to_close
    from scoped_counted($department, $district, $category, $request_type, $channel)
    cross join reference
    where
        day >= $start::date and day < $end::date
        and lat is not null and lon is not null
),

-- axial coordinates (q, r) of a pointy-top hexagon grid with circumradius 1, rounded in cube space
cube as (
    select
        sqrt(3) / 3 * x - y / 3 as cq,
        2.0 / 3 * y as cr,
        -(sqrt(3) / 3 * x - y / 3) - 2.0 / 3 * y as cs,
        days_to_close
    from located
),

rounded as (
    select
        round(cq) as rq, round(cr) as rr, round(cs) as rs,
        abs(round(cq) - cq) as dq, abs(round(cr) - cr) as dr, abs(round(cs) - cs) as ds,
        days_to_close
    from cube
),

cells as (
    select
        case when dq > dr and dq > ds then -rr - rs else rq end::bigint as q,
        case when dr > ds and not (dq > dr and dq > ds) then -rq - rs else rr end::bigint as r,
        days_to_close
    from rounded
),

final as (
    select
        q,
        r,
        (1.5 * r) * $cell_km / 110.574 as center_lat,
        (sqrt(3) * (q + r / 2.0)) * $cell_km / (111.320 * cos(radians(any_value(reference.ref_lat))))
            as center_lon,
        any_value(reference.ref_lat) as ref_lat,
        count(*) as count_requests,
        median(days_to_close) as median_days_to_close,
        count(days_to_close) as count_with_days_to_close
    from cells
    cross join reference
    group by q, r
)

select * from final order by count_requests desc, q, r limit 50000
