-- returns: the rows of daily_overdue matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: daily_overdue, matches_filters
select * from daily_overdue
where matches_filters(
    department, district, category, request_type, channel,
    p_department, p_district, p_category, p_request_type, p_channel
)
