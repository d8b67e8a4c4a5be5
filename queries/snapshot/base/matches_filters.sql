-- returns: whether a row's five dimensions match the page's filters (a NULL filter matches any value)
-- params: none
-- materialized: scalar_macro
-- arguments: department, district, category, request_type, channel, p_department, p_district, p_category, p_request_type, p_channel
-- snapshots: internal, public
-- depends: none
-- The one place that says what a filter matches: every scoped_* macro and the open-data queries
-- call it (a macro is inlined where it is called, so DuckDB plans the same filter as if written there).
select (
    (p_department is null or department = p_department)
    and (p_district is null or district = p_district)
    and (p_category is null or category = p_category)
    and (p_request_type is null or request_type = p_request_type)
    and (p_channel is null or channel = p_channel)
) as matches_filters
