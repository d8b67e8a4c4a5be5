-- returns: one row per (source, month created, flag) with the requests carrying the flag and all requests of that source and month; the flags are those ingest set (closed_before_created, no_coordinates, placeholder_coordinates, outside_city, unknown_district, unknown_status, duplicate_id_in_file, information_only, date_in_future, date_before_earliest) plus closed_as_duplicate (closure = duplicate)
-- params: none
-- access: internal
-- Counted at publish (queries/snapshot/staff/flags_by_month.sql), not from the request rows.
with final as (
    select source, month, flag, count_flagged, count_requests from flags_by_month
)

select * from final order by source, month, flag
