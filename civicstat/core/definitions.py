"""The metric definitions of GUIDE.md, written once as SQL over the canonical columns.

publish.py stores them as columns of every snapshot's `requests` table, so every query, public
or internal, reads the same definition instead of restating it:

- days_to_close: closed_at − created_at in days, for closed requests where that is not negative.
- is_on_time: for requests with a due date that are closed, or still open and already past due
  at the snapshot's as-of time: closed by the due date? NULL for the rest (not yet due, or no
  due date), so count(is_on_time) is the on-time denominator and count_if(is_on_time) the
  numerator.
- open_until: when the request stopped being open: NULL while it is open, closed_at once
  closed (-infinity for a closed request with no closed time). A request is open at time t
  when created_at < t and (open_until is null or open_until >= t).
- is_overdue: open at the as-of time and past its due date.
- is_information_only: a call that is not a service request (a source's "information only"
  call, flagged at ingest); kept, but left out of performance figures like duplicates.
"""

from __future__ import annotations

import datetime as dt


def derived_columns(as_of: dt.datetime | None, alias: str = "r") -> str:
    """SELECT-list items computing the derived columns (as_of is the snapshot's as-of time)."""
    moment = f"timestamp '{as_of:%Y-%m-%d %H:%M:%S}'" if as_of else "null::timestamp"
    r = alias
    is_closed = f"({r}.status = 'closed' and {r}.closed_at is not null)"
    return f"""
    case
        when {r}.status = 'closed' and {r}.closed_at >= {r}.created_at
            then (epoch({r}.closed_at) - epoch({r}.created_at)) / 86400.0
    end as days_to_close,
    case
        when {r}.due_at is not null and ({is_closed} or {r}.due_at < {moment})
            then {is_closed} and {r}.closed_at <= {r}.due_at
    end as is_on_time,
    case
        when {r}.status = 'closed' then coalesce({r}.closed_at, '-infinity'::timestamp)
    end as open_until,
    coalesce({r}.status <> 'closed' and {r}.due_at < {moment}, false) as is_overdue,
    coalesce(list_contains({r}.flags, 'information_only'), false) as is_information_only"""


DERIVED_COLUMN_NAMES = (
    "days_to_close", "is_on_time", "open_until", "is_overdue", "is_information_only"
)


def dimension_macro(name: str, table: str) -> str:
    """SQL creating table macro `name`: the rows of `table` matching the five dimension filters
    (NULL = all). `name` and `table` are module constants, never user input."""
    return f"""
create or replace macro {name}(
    p_department, p_district, p_category, p_request_type, p_channel
) as table
select * from {table}
where (p_department is null or department = p_department)
  and (p_district is null or district = p_district)
  and (p_category is null or category = p_category)
  and (p_request_type is null or request_type = p_request_type)
  and (p_channel is null or channel = p_channel)
"""  # noqa: S608
