-- returns: the rows of close_times matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal
-- depends: close_times, matches_filters
select * from close_times
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
