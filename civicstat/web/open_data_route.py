"""The open data as plain HTTP: GET /_civicstat/open-data/requests.<csv|parquet>?from=&to=&...

The Open data page links here rather than using st.download_button: a file Streamlit makes on a
click belongs to no session, so its media store deletes it at the second clean-up that any other
session's script run triggers; on a busy server that came before the browser's fetch (1 of 15
downloads failed with 404 in bench/churn.py with 4 visitors). A URL that makes the file when it
is fetched has no such window, and it is a stable address an analyst can put in a script:

    curl -o requests.csv 'https://<dashboard>/_civicstat/open-data/requests.csv?from=2024-03-01&to=2024-03-31&department=Parks'

Parameters: from and to (inclusive days, YYYY-MM-DD; to defaults to from + 29 days when only from
is given, both default to the last 30 days of the data), and any of department, district,
category, request_type and channel. Rows: the public snapshot's records created in those days
(at most opendata.MAX_ROWS), the same as the page's filters give. Files are cached per snapshot
version and parameters (web/data.open_data_file, 4 kept) and at most two are made at a time.
"""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civicstat.core.filters import DIMENSIONS, Filters, Period
from civicstat.exports.formats import FORMATS
from civicstat.serve.snapshots import SnapshotMissing

PATH = "/_civicstat/open-data/requests.{kind}"
MAX_VALUE_CHARS = 200
DEFAULT_DAYS = 30
_BUILDS = threading.BoundedSemaphore(2)  # files made at once (each up to seconds of CPU)


class BadRequest(ValueError):
    """A parameter that is not what this endpoint takes."""


def url_for(kind: str, filters: Filters) -> str:
    """The relative URL of the file of `kind` for the page's filters (relative, so that it
    works under a proxy's path prefix too)."""
    from urllib.parse import urlencode

    last_day = filters.period.end - dt.timedelta(days=1)
    query = {"from": f"{filters.period.start:%Y-%m-%d}", "to": f"{last_day:%Y-%m-%d}"}
    query |= {d: v for d, v in filters.dimensions.items() if v}
    return PATH.format(kind=kind).lstrip("/") + "?" + urlencode(query)


def file_name(kind: str, filters: Filters) -> str:
    """requests-<first day>-<last day>.<ext> (the last day inclusive, as people read a range)."""
    last_day = filters.period.end - dt.timedelta(days=1)
    return FORMATS[kind].file_name(f"requests-{filters.period.start:%Y%m%d}-{last_day:%Y%m%d}")


def _day(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date written YYYY-MM-DD") from None


def parse(query: dict[str, str], as_of: dt.datetime) -> Filters:
    """Filters from the query string; BadRequest says what is wrong in one line."""
    unknown = sorted(set(query) - {"from", "to", *DIMENSIONS})
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; use from, to, {', '.join(DIMENSIONS)}")
    for name, value in query.items():
        if len(value) > MAX_VALUE_CHARS:
            raise BadRequest(f"'{name}' is longer than {MAX_VALUE_CHARS} characters")
    last = _day(query["to"], "to") if "to" in query else None
    first = _day(query["from"], "from") if "from" in query else None
    if first is None:
        last = last or as_of.date()
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    elif last is None:
        last = first + dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise BadRequest("'to' is before 'from'")
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    period = Period(start, end, f"{first:%d %b %Y} – {last:%d %b %Y}")
    return Filters(period=period, as_of=as_of,
                   dimensions={d: query.get(d) or None for d in DIMENSIONS})


def _make(kind: str, query: dict[str, str]) -> tuple[bytes, str, str]:
    from civicstat.web import data

    info = data.public_info()
    filters = parse(query, pd.Timestamp(info["as_of"]).to_pydatetime())
    with _BUILDS:
        body = data.open_data_file(kind, filters)
    return body, file_name(kind, filters), str(info["version"])


async def open_data(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in FORMATS:
        return Response(f"No such format; use {', '.join(FORMATS)}.\n", status_code=404)
    try:
        body, name, version = await run_in_threadpool(_make, kind, dict(request.query_params))
    except BadRequest as bad:
        return Response(f"{bad}.\n", status_code=400, media_type="text/plain")
    except SnapshotMissing:
        return Response("Nothing is published yet.\n", status_code=503, media_type="text/plain")
    return Response(body, media_type=FORMATS[kind].mime, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-cache",  # the data changes with each publish
        "X-CivicStat-Snapshot": version,
    })


ROUTES = [Route(PATH, open_data, methods=["GET"])]
