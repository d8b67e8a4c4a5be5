-- returns: the rows of daily_flows matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: daily_flows
select * from daily_flows
where
    (p_department is null or department = p_department)
    and (p_district is null or district = p_district)
    and (p_category is null or category = p_category)
    and (p_request_type is null or request_type = p_request_type)
    and (p_channel is null or channel = p_channel)
