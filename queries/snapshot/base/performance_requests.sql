-- returns: the requests that count in performance figures: not duplicates, not information-only calls
-- params: none
-- materialized: view
-- snapshots: internal, public
-- depends: requests, is_not_duplicate
-- The one place that decides which requests count: every performance model reads this view (a
-- view is inlined where it is read, so the filter runs in each model's scan, as if written there).
with final as (
    select * from requests
    where is_not_duplicate(closure) and not is_information_only
)

select * from final
