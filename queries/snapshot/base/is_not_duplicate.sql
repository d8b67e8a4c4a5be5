-- returns: whether a request with this closure is not a duplicate of another request (an open request, closure NULL, is not)
-- params: none
-- materialized: scalar_macro
-- arguments: closure
-- snapshots: internal, public
-- depends: none
-- The one place that says what a duplicate is: performance_requests leaves them out, the request
-- search lists them only when asked, the data quality page counts them.
select (closure is distinct from 'duplicate') as is_not_duplicate
