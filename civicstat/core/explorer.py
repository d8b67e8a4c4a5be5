"""The request explorer's rules: what a search means as query parameters, and how one request's
time compares with the typical time for its type."""

from __future__ import annotations

import pandas as pd

from civicstat.core.figures import duration
from civicstat.core.filters import Filters
from civicstat.core.values import missing

MAX_LISTED = 5_000  # the newest matches fetched, listed and mapped at most
MAX_EXPORTED = 50_000  # the newest matches a download holds at most (fetched when clicked)


def search_params(filters: Filters, *, request_id: str | None = None, address: str | None = None,
                  status: str | None = None, include_duplicates: bool = True,
                  limit: int | None = None) -> dict[str, object]:
    """requests_search.sql's parameters. An id is an exact lookup that ignores every other
    condition; otherwise the period (created in it), the dimensions, status and address apply.
    `limit`: the newest matches fetched (MAX_LISTED by default)."""
    limit = MAX_LISTED if limit is None else limit
    request_id = (request_id or "").strip() or None
    address = (address or "").strip() or None
    if request_id:
        return {
            "as_of": filters.as_of, "request_id": request_id, "department": None,
            "district": None, "request_type": None, "channel": None, "status": None,
            "created_from": None, "created_to": None, "address": None,
            "include_duplicates": True, "limit": limit,
        }
    dims = filters.dimensions
    return {
        "as_of": filters.as_of, "request_id": None, "department": dims.get("department"),
        "district": dims.get("district"), "request_type": dims.get("request_type"),
        "channel": dims.get("channel"), "status": status, "created_from": filters.period.start,
        "created_to": filters.period.end, "address": address,
        "include_duplicates": include_duplicates, "limit": limit,
    }


def lookup_params(filters: Filters, request_id: str) -> dict[str, object]:
    """Parameters that fetch exactly one request by id."""
    return search_params(filters, request_id=request_id, limit=1)


def count_in_all(found: pd.DataFrame, column: str = "count_matching") -> int:
    """How many rows a limited query had in all (a window count on every row), 0 if none."""
    return int(found[column].iloc[0]) if len(found) else 0


def typical_for(typical: pd.DataFrame, request_type: object) -> pd.Series | None:
    """The row of type_typical_times.sql for `request_type`, if any."""
    rows = typical[typical["request_type"] == request_type]
    return rows.iloc[0] if len(rows) else None


def typical_comparison(days: object, is_open: bool, median: object, p90: object) -> str:
    """How a request's time compares with its type's median and 90th percentile, in words."""
    if missing(days):
        return "No time to compare (no close date)."
    taken = (f"Open for {duration(days)} so far" if is_open
             else f"Closed in {duration(days)}")
    if missing(median) or missing(p90):
        return f"{taken}; too few closed requests of this type last year to compare."
    if days <= median:
        where = "within the typical time for its type (at or under the median)"
    elif days <= p90:
        where = "slower than the median for its type, but within the 90th percentile"
    else:
        where = "slower than 90% of requests of its type"
    return (f"{taken}: {where}. Median {duration(median)}, "
            f"90th percentile {duration(p90)}.")
