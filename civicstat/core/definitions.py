"""The metric definitions (README: "What the numbers mean"), written once as SQL over the
canonical columns.

The publish step stores them as columns of every snapshot's `requests` table (the model
queries/snapshot/base/requests.sql splices derived_columns() in as `{{ derived_columns }}`, with
the snapshot's as-of time bound as $as_of), so every query, public or internal, reads the same
definition instead of restating it. Which requests count in performance figures is not here: the
model queries/snapshot/base/performance_requests.sql decides it, once.

- days_to_close: closed_at − created_at in days, for closed requests where that is not negative.
- is_on_time: for requests with a due date that are closed, or still open and already past due
  at the snapshot's as-of time: closed by the due date? NULL for the rest (not yet due, or no
  due date, or no status: see below), so count(is_on_time) is the on-time denominator and
  count_if(is_on_time) the numerator.
- open_until: when the request stopped being open: NULL while it is open, closed_at once
  closed (-infinity for a closed request with no closed time, and for a request with no status:
  its source records neither status nor closed time, so it counts for volume, never as open
  backlog). A request is open at time t when created_at < t and (open_until is null or
  open_until >= t).
- is_overdue: open at the as-of time and past its due date.
- is_information_only: a call that is not a service request (a source's "information only"
  call, flagged at ingest); kept, but left out of performance figures like duplicates.
"""

from __future__ import annotations


def derived_columns(alias: str = "r") -> str:
    """SELECT-list items computing the derived columns. The snapshot's as-of time is the bound
    parameter $as_of (a TIMESTAMP, NULL for an empty store), never text in the SQL."""
    moment = "$as_of::timestamp"
    r = alias
    is_closed = f"({r}.status = 'closed' and {r}.closed_at is not null)"
    return f"""
    case
        when {r}.status = 'closed' and {r}.closed_at >= {r}.created_at
            then (epoch({r}.closed_at) - epoch({r}.created_at)) / 86400.0
    end as days_to_close,
    case
        when {r}.status is not null and {r}.due_at is not null
            and ({is_closed} or {r}.due_at < {moment})
            then {is_closed} and {r}.closed_at <= {r}.due_at
    end as is_on_time,
    case
        when {r}.status = 'closed' then coalesce({r}.closed_at, '-infinity'::timestamp)
        when {r}.status is null then '-infinity'::timestamp
    end as open_until,
    coalesce({r}.status <> 'closed' and {r}.due_at < {moment}, false) as is_overdue,
    coalesce(list_contains({r}.flags, 'information_only'), false) as is_information_only"""


DERIVED_COLUMN_NAMES = (
    "days_to_close", "is_on_time", "open_until", "is_overdue", "is_information_only"
)

