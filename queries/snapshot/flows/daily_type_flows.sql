-- returns: daily_flows rolled up over district and channel: per day and request type (with its department and category), some forty times fewer rows
-- params: none
-- materialized: table
-- snapshots: internal, public
-- depends: daily_flows
-- incremental: sums
-- Queries that neither group nor filter by district or channel read it through scoped_type_flows.
with final as (
    select
        day, department, category, request_type,
        sum(count_created)::integer as count_created,
        sum(count_on_time)::integer as count_on_time,
        sum(count_on_time_eligible)::integer as count_on_time_eligible,
        sum(count_closed)::integer as count_closed
    from daily_flows
    group by all
)

select * from final order by day
