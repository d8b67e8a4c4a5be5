"""The internal snapshot's publish-time tables for the staff pages (publish.py creates them in
the internal snapshot only, after its requests and daily_flows).

The staff pages must stay fast at 50 million requests, so nothing they show by default reads
every request row. What they read instead:

- open_requests: the requests open now (typically 1–5% of the rows), for the Backlog page and
  the scorecard's overdue column; sorted for the overdue list (longest past due first).
- close_times: days_to_close of the closed requests with their day of creation and dimensions
  only, for medians and 90th percentiles (exact quantiles need the rows; these are narrow).
- type_typical_times: each request type's median and 90th percentile over the year before the
  as-of time (the request explorer compares one request with its type).
- statuses: the statuses in the data (a filter's choices, without scanning the requests).
- quarantine_by_reason, flags_by_month, field_fill_counts: the Data quality page's figures.

Every table is counted the way its query used to count the request rows; tests/test_staff_tables.py
checks each against pandas.
"""

from __future__ import annotations

from civicstat.core.definitions import dimension_macro

# The requests open now (open_until is NULL), counted like scoped_requests (no duplicates, no
# information-only calls), with what the backlog and the overdue list show. Sorted by due date
# (then id), as the overdue list is: its first rows are the most overdue.
OPEN_REQUESTS_TABLE = """
create table open_requests as
select
    request_id, created_at, due_at, department, category, request_type, district, channel,
    address, is_overdue
from requests
where closure is distinct from 'duplicate' and not is_information_only and open_until is null
order by due_at nulls last, request_id
"""

SCOPED_OPEN_REQUESTS_MACRO = dimension_macro("scoped_open_requests", "open_requests")

# The closed requests' days_to_close (counted like scoped_requests; NULL days_to_close left out)
# with the day of creation (periods are whole days) and the five dimensions. Sorted by
# department, day and days_to_close: a department's rows of a period are contiguous (a department
# filter reads only them) and reach the quantile nearly in order, which makes DuckDB's exact
# quantiles several times faster than on rows in created_at order. The sort compares each
# department's position in the (short, sorted) list of departments instead of the text: the same
# order, a third less time to sort at 10 million rows.
CLOSE_TIMES_TABLE = """
create table close_times as
select
    department, created_at::date as day, category, request_type, district, channel, days_to_close
from requests
where closure is distinct from 'duplicate' and not is_information_only
  and days_to_close is not null
order by
    list_position(
        (select list(distinct department order by department) from request_types), department
    ),
    day,
    days_to_close
"""

SCOPED_CLOSE_TIMES_MACRO = dimension_macro("scoped_close_times", "close_times")

# Per request type: median and 90th-percentile days to close of its requests created in the
# 365 days before the snapshot's as-of time (and up to it) and closed.
TYPE_TYPICAL_TIMES_TABLE = """
create table type_typical_times as
with as_of as (
    select as_of from snapshot_info
)

select
    request_type,
    count(*) as count_closed,
    median(days_to_close) as median_days_to_close,
    quantile_cont(days_to_close, 0.9) as p90_days_to_close
from requests
cross join as_of
where closure is distinct from 'duplicate' and not is_information_only
  and created_at >= as_of.as_of - interval 365 day
  and created_at <= as_of.as_of
  and days_to_close is not null
group by request_type
order by request_type
"""

STATUSES_TABLE = """
create table statuses as
select status, count(*) as count_requests
from requests
group by status
order by status
"""

# Quarantined records per (reason, file): how many, from how many ingest runs, and when the
# latest of those runs started.
QUARANTINE_BY_REASON_TABLE = """
create table quarantine_by_reason as
select
    coalesce(q.reason, '(no reason)') as reason,
    coalesce(q.file, '(unknown file)') as file,
    count(*) as count_records,
    count(distinct q.run_id) as count_runs,
    max(r.started_at) as last_run_started_at
from quarantine as q
left join ingest_runs as r using (run_id)
group by all
order by all
"""

# Per (source, month created, flag): the requests carrying the flag ingest set, or
# closed_as_duplicate (closure = duplicate), with all requests of that source and month.
FLAGS_BY_MONTH_TABLE = """
create table flags_by_month as
with requests_by_month as (
    select
        coalesce(source, '(unknown)') as source,
        date_trunc('month', created_at)::date as month,
        coalesce(flags, []) || case when closure = 'duplicate' then ['closed_as_duplicate'] else [] end
            as all_flags
    from requests
),

month_totals as (
    select source, month, count(*) as count_requests
    from requests_by_month
    group by all
),

flagged as (
    select source, month, unnest(all_flags) as flag
    from requests_by_month
    where len(all_flags) > 0
)

select f.source, f.month, f.flag, count(*) as count_flagged, t.count_requests
from flagged as f
join month_totals as t using (source, month)
group by all
order by source, month, flag
"""

# Per (source, canonical field): the requests the field applies to (closed_at, closure and
# resolution: the closed ones; every other field: all) and those with it filled (not NULL, and
# for text not blank).
FIELD_FILL_COUNTS_TABLE = """
create table field_fill_counts as
with filled_counts as (
    select
        coalesce(source, '(unknown)') as source,
        count(*) as count_requests,
        count(nullif(trim(request_id), '')) as request_id,
        count(created_at) as created_at,
        count(updated_at) as updated_at,
        count(closed_at) filter (where status = 'closed') as closed_at,
        count(due_at) as due_at,
        count(nullif(trim(status), '')) as status,
        count(nullif(trim(closure), '')) filter (where status = 'closed') as closure,
        count(nullif(trim(department), '')) as department,
        count(nullif(trim(request_type), '')) as request_type,
        count(nullif(trim(category), '')) as category,
        count(nullif(trim(channel), '')) as channel,
        count(nullif(trim(district), '')) as district,
        count(nullif(trim(neighborhood), '')) as neighborhood,
        count(lat) filter (where lon is not null) as lat_lon,
        count(nullif(trim(address), '')) as address,
        count(nullif(trim(description), '')) as description,
        count(nullif(trim(resolution), '')) filter (where status = 'closed') as resolution,
        count(*) filter (where status = 'closed') as count_closed
    from requests
    group by all
),

long as (
    unpivot filled_counts
    on columns(* exclude (source, count_requests, count_closed))
    into name field value count_filled
)

select
    source,
    field,
    case when field in ('closed_at', 'closure', 'resolution') then count_closed
         else count_requests end as count_applicable,
    count_filled
from long
order by source, field
"""

STAFF_TABLES = (
    OPEN_REQUESTS_TABLE,
    SCOPED_OPEN_REQUESTS_MACRO,
    CLOSE_TIMES_TABLE,
    SCOPED_CLOSE_TIMES_MACRO,
    TYPE_TYPICAL_TIMES_TABLE,
    STATUSES_TABLE,
    QUARANTINE_BY_REASON_TABLE,
    FLAGS_BY_MONTH_TABLE,
    FIELD_FILL_COUNTS_TABLE,
)
