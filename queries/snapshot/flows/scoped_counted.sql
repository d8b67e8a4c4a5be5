-- returns: the rows of counted_requests matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: public
-- depends: counted_requests
select * from counted_requests
where
    (p_department is null or department = p_department)
    and (p_district is null or district = p_district)
    and (p_category is null or category = p_category)
    and (p_request_type is null or request_type = p_request_type)
    and (p_channel is null or channel = p_channel)
