-- returns: the rows of daily_close_bands matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: public
-- depends: daily_close_bands, matches_filters
select * from daily_close_bands
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
