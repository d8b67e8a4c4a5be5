"""The open data over plain HTTP (civicstat/web/open_data_route.py): the page's filters as a URL
and back, and a clear 400 for what the endpoint does not take. The files themselves are fetched
through a real server in tests/test_browser_public.py."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest

from civicstat.core.filters import Filters, resolve_period
from civicstat.web.open_data_route import PATH, BadRequest, file_name, parse, url_for

AS_OF = dt.datetime(2024, 3, 30, 7, 0)


def test_the_page_filters_round_trip_through_the_url():
    period = resolve_period("custom", AS_OF, 7, (dt.date(2024, 3, 1), dt.date(2024, 3, 31)))
    filters = Filters(period=period, as_of=AS_OF,
                      dimensions={"department": "Parks & Rec", "district": None})
    url = url_for("csv", filters)
    assert not url.startswith("/")  # relative: works under a proxy's path prefix
    assert urlsplit(url).path == PATH.format(kind="csv").lstrip("/")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query == {"from": "2024-03-01", "to": "2024-03-31", "department": "Parks & Rec"}
    back = parse(query, AS_OF)
    assert (back.period.start, back.period.end) == (period.start, period.end)
    assert back.dimensions["department"] == "Parks & Rec" and back.dimensions["district"] is None
    assert file_name("csv", filters) == "requests-20240301-20240331.csv"  # the last day inclusive


def test_defaults_are_the_last_30_days_of_the_data():
    filters = parse({}, AS_OF)
    assert filters.period.start == dt.datetime(2024, 3, 1)
    assert filters.period.end == dt.datetime(2024, 3, 31)
    assert parse({"from": "2024-01-01"}, AS_OF).period.end == dt.datetime(2024, 1, 31)


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "31/03/2024"}, "'from' must be a date"),
    ({"to": "2024-02-30"}, "'to' must be a date"),
    ({"from": "2024-03-10", "to": "2024-03-01"}, "'to' is before 'from'"),
    ({"department": "x" * 201}, "longer than 200"),
    ({"address": "1 Main St"}, "unknown parameter 'address'"),
])
def test_what_the_endpoint_does_not_take_is_named(query, message):
    with pytest.raises(BadRequest, match=message):
        parse(query, AS_OF)
