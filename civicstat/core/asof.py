"""The data's as-of time ("now" for every figure), and the notes a page shows about it.

"Now" is the latest created / updated / closed time in the data (implausible dates aside), so the
same data always gives the same numbers. Two exceptions:

- `as_of` in city.toml sets it (a date means the end of that day);
- when the newest request was made more than LATE_ACTIVITY_DAYS before that latest time (a few
  requests closed or updated long after the rest, or an export whose `updated_at` is the day it
  was made), the as-of is the newest request's creation time, so the default period ends at the
  last day with requests instead of showing an empty dashboard. The later activity stays in the
  data (close times count it); the page says what happened (`as_of_note`).

Requests from a source that records neither status nor closed time are stored with no status:
they count for volume, never as open backlog (core/definitions.py); `status_note` says so.
"""

from __future__ import annotations

import datetime as dt

LATE_ACTIVITY_DAYS = 30
BASES = ("data", "last_request", "city.toml")


def choose_as_of(latest_activity: dt.datetime | None, latest_created: dt.datetime | None,
                 configured: dt.datetime | None = None) -> tuple[dt.datetime | None, str]:
    """(as-of time, its basis: one of BASES)."""
    if configured is not None:
        return configured, "city.toml"
    if latest_activity is None or latest_created is None:
        return latest_activity, "data"
    if latest_activity - latest_created > dt.timedelta(days=LATE_ACTIVITY_DAYS):
        return latest_created, "last_request"
    return latest_activity, "data"


def as_of_note(as_of: dt.datetime | None, basis: str,
               latest_activity: dt.datetime | None) -> str:
    """One sentence for the page when the as-of is not simply the latest time in the data."""
    if as_of is None:
        return ""
    if basis == "city.toml":
        return f"The as-of date {as_of:%d %B %Y} is set in the city's configuration."
    if basis == "last_request" and latest_activity is not None:
        return (f"The newest request was made on {as_of:%d %B %Y}: periods end on that day. "
                f"Some requests were closed or updated later (up to {latest_activity:%d %B %Y}).")
    return ""


def status_note(count_without_status: int, count_requests: int) -> str:
    """One sentence for pages that need closures, when some requests have no status."""
    if not count_without_status:
        return ""
    if count_without_status >= count_requests:
        return ("This city's source does not record status or closed times: requests are "
                "counted, but closures, close times and the open backlog cannot be shown.")
    return (f"{count_without_status:,} requests come from a source that does not record status "
            "or closed times: they are counted, but not in closures, close times or the backlog.")
