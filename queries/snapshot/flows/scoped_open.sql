-- returns: the rows of open_now matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: open_now, matches_filters
select * from open_now
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
