-- returns: the rows of counted_requests matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: public
-- depends: counted_requests, matches_filters
select * from counted_requests
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
