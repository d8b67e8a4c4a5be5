-- returns: per day and request type (with its department and category), the flows of daily_flows matching the five dimension filters (NULL: all)
-- params: none
-- materialized: macro
-- arguments: p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: daily_type_flows, scoped_flows
-- Reads daily_type_flows unless a district or channel filter is set, else daily_flows through
-- scoped_flows (the branch whose condition is false is pruned when the query is planned).
select
    day, department, category, request_type,
    count_created, count_on_time, count_on_time_eligible, count_closed
from daily_type_flows
where
    p_district is null and p_channel is null
    and (p_department is null or department = p_department)
    and (p_category is null or category = p_category)
    and (p_request_type is null or request_type = p_request_type)
union all
select
    day, department, category, request_type,
    count_created, count_on_time, count_on_time_eligible, count_closed
from scoped_flows(p_department, p_district, p_category, p_request_type, p_channel)
where p_district is not null or p_channel is not null
