-- returns: one row per council district with its map centre and simplified boundary (GeoJSON, WGS84), to draw under other map layers
-- params: none
-- access: internal
with final as (
    select district, center_lat, center_lon, geometry_json from districts
)

select * from final order by district
