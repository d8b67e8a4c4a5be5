-- returns: the rows of close_times matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal
-- depends: close_times
select * from close_times
where
    (p_department is null or department = p_department)
    and (p_district is null or district = p_district)
    and (p_category is null or category = p_category)
    and (p_request_type is null or request_type = p_request_type)
    and (p_channel is null or channel = p_channel)
