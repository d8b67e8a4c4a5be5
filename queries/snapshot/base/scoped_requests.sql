-- returns: the requests that count in performance figures (performance_requests) matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: performance_requests, matches_filters
select * from performance_requests
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
