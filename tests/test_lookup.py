"""Look up my request (issue 13, item 11): AppTest of views/public/lookup.py on the small city
(tests/smallcity.py, k = 3): a request found shows its public record and nothing private; a number
that does not exist and a request of an aggregate-only type read exactly alike ("not found"); a
no-location type shows no location; hostile and over-long input is handled; the typical times
equal an independent pandas computation and follow the k rule."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from civicstat.core import lookup
from civicstat.publish.build import publish
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot, read_info

from metrics_reference import load, select
from smallcity import PRIVATE, ROWS, make_small_city
from test_support import run_public_page

K = 3
PAGE = "public/lookup.py"
# Two more Pothole requests closed in March (3 and 6 days), so that the type's typical times rest
# on 6 closed requests; Tree keeps 2 closed (below k), Noise none.
EXTRA = [
    ("20", "2024-03-11 09:00", "2024-03-14 09:00", "2024-03-14 09:00", "closed", "resolved",
     "Streets", "Pothole", "D3", 40.13, -74.93, "web"),
    ("21", "2024-03-12 09:00", "2024-03-18 09:00", "2024-03-15 09:00", "closed", "resolved",
     "Streets", "Pothole", "D4", 40.14, -74.84, "web"),
]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    city = make_small_city(tmp_path_factory.mktemp("lookup"), ROWS + EXTRA)
    publish(city)
    return city


@pytest.fixture()
def open_lookup(city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(city.root))
    return lambda **params: run_public_page(PAGE, **params)


def shown(app) -> str:
    """Everything the page sent, as text (elements and their protos)."""
    return json.dumps([str(e.proto) if hasattr(e, "proto") else str(e) for e in app.main])


def facts(app) -> dict[str, str]:
    """{what: value} of the request's bulleted record (Markdown escapes removed)."""
    lines = [line for m in app.markdown for line in m.value.replace("\\", "").splitlines()]
    pairs = [line[2:].split("**: ", 1) for line in lines if line.startswith("- **")]
    return {what.strip("*"): value for what, value in pairs}


def test_a_request_found_shows_its_public_record(open_lookup):
    app = open_lookup(id="2")
    assert [h.value for h in app.subheader][0] == "Request number 2"
    record = facts(app)
    assert record["Status"] == "Closed (resolved)"
    assert record["Request type"] == "Pothole" and record["Department"] == "Streets"
    assert record["Created"] == "Tue 05 Mar 2024, 10:00"
    assert record["Closed"] == "Fri 15 Mar 2024, 10:00"
    assert record["Time to close"] == "10.0 days"
    assert record["Due by"] == "Fri 08 Mar 2024, 10:00"
    assert record["Closed by its due date?"] == "No: closed after its due date."
    assert record["Where"] == "D1"
    text = shown(app)
    for private in (PRIVATE["address"], "my neighbour", PRIVATE["resolution"], "40.02", "74.95"):
        assert private not in text
    assert app.text_input[0].value == "2"


def test_an_open_request_past_due_says_so(open_lookup):
    record = facts(open_lookup(id="3"))
    assert record["Status"] == "Open" and "Closed" not in record
    assert record["Last updated"] == "Sun 10 Mar 2024, 22:00"
    assert record["Closed by its due date?"] == "Not yet: it is open and past its due date."


def test_not_found_and_aggregate_only_read_exactly_alike(open_lookup):
    """Request 9 (Abuse Report, aggregate only) exists; request 99 does not: the same answer."""
    answers = {}
    for number in ("9", "99"):
        app = open_lookup(id=number)
        assert [h.value for h in app.subheader] == ["Not found"]
        assert not facts(app)
        answers[number] = [i.value.replace(f"**{number}**", "**N**") for i in app.info]
        assert "Abuse Report" not in shown(app) and "Health" not in shown(app)
    assert answers["9"] == answers["99"] == [f"Request number **N**: {lookup.NOT_FOUND}"]


def test_a_no_location_type_shows_no_location(open_lookup):
    """Request 8 (Encampment, no location) in D2: neither its district nor a coordinate."""
    app = open_lookup(id="8")
    record = facts(app)
    assert record["Request type"] == "Encampment"
    assert record["Where"] == "Not published for this type of request."
    text = shown(app)
    assert "D2" not in text and "40.05" not in text and "74.85" not in text


@pytest.mark.parametrize("hostile", [
    "'; drop table requests; --", "1' or '1'='1", '1" or ""="', "<script>alert(1)</script>",
    "1; select * from requests", "%", "_", "1\n2",
])
def test_hostile_input_is_a_number_not_found(open_lookup, hostile):
    app = open_lookup(id=hostile)
    assert not app.exception and not app.error
    assert [h.value for h in app.subheader] in (["Not found"], []) or app.warning
    # shown as text: Markdown escaped wherever the number is written back (the input box holds
    # it as its value, which is text)
    written = [e.value for e in (*app.info, *app.markdown, *app.subheader, *app.warning)]
    assert not any(re.search(r"(?<!\\)<", value) for value in written), written
    assert not facts(app)


def test_a_10000_character_number_is_refused_without_a_look_up(open_lookup, monkeypatch):
    looked_up = []
    monkeypatch.setattr(lookup, "look_up", lambda *args: looked_up.append(args))
    app = open_lookup(id="1" * 10_000)
    assert [w.value for w in app.warning] == [lookup.TOO_LONG]
    assert looked_up == [] and not app.subheader
    assert lookup.clean_id("x" * lookup.MAX_ID_LENGTH)[0] is not None


def test_typing_a_number_puts_it_in_the_url(open_lookup):
    app = open_lookup()
    assert not app.subheader  # nothing asked yet
    app.text_input[0].input(" #1 ")
    app.button[0].click().run()
    assert app.query_params["id"] in ("1", ["1"])
    assert facts(app)["Request type"] == "Pothole"


def test_the_query_binds_the_number(city):
    """The number is a bound parameter: SQL in it matches no request, and the query refuses a
    missing or non-text number."""
    from civicstat.serve.queries import QueryError

    with connect_snapshot(city.public_path) as con:
        query = get_query("public", "request_lookup")
        assert query.run(con, {"request_id": "1' or '1'='1"}).empty
        assert len(query.run(con, {"request_id": "1"})) == 1
        with pytest.raises(QueryError):
            query.run(con, {"request_id": None})


# --- how long requests like it usually take ------------------------------------------------------

def typical_reference(city, request_type: str) -> tuple[float | None, float | None, int]:
    """(median, 90th percentile, closed count) of days to close of the type's requests made in
    the 365 whole days to the as-of day, duplicates left out: pandas, from the definitions."""
    frame = select(load(city.public_path), request_type=request_type)
    with connect_snapshot(city.public_path) as con:
        as_of = pd.Timestamp(read_info(con)["as_of"])
    end = as_of.normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=365)
    made = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    closed = made[(made["status"] == "closed") & (made["closed_at"] >= made["created_at"])]
    days = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    if days.empty:
        return None, None, 0
    return float(days.quantile(0.5)), float(days.quantile(0.9)), len(days)


def test_typical_times_equal_an_independent_computation(city, open_lookup):
    median, p90, basis = typical_reference(city, "Pothole")
    assert basis == 6  # requests 1, 2, 10, 11, 20, 21 (5 is a duplicate)
    assert (median, p90) == pytest.approx((4.5, 14.5))  # days 1, 2, 3, 6, 10, 19
    app = open_lookup(id="1")
    sentence = app.markdown[-1].value.replace("\\", "")
    assert sentence.startswith(
        f"Half of the requests like this are closed within {median:.1f} days, and 9 in 10 "
        f"within {p90:.1f} days (from the {basis} Pothole requests made in the 365 days to ")


def test_typical_times_resting_on_fewer_than_k_say_too_few(city, open_lookup):
    # request 7 only (request 6 was closed before it was made: no time to close): 1 < k
    assert typical_reference(city, "Tree")[2] == 1
    sentence = open_lookup(id="7").markdown[-1].value.replace("\\", "")
    assert sentence.startswith("Too few of the Tree requests made in the 365 days to ")
    assert f"(fewer than {K})" in sentence and "within" not in sentence
    none_closed = open_lookup(id="3").markdown[-1].value.replace("\\", "")
    assert none_closed.startswith("None of the Noise requests")


def test_clean_id():
    assert lookup.clean_id(None) == (None, None)
    assert lookup.clean_id("   ") == (None, None)
    assert lookup.clean_id(" #A-12 ") == ("A-12", None)
    assert lookup.clean_id("x" * (lookup.MAX_ID_LENGTH + 1)) == (None, lookup.TOO_LONG)
    assert lookup.clean_id("1\x002") == (None, lookup.NOT_PRINTABLE)


def test_typical_sentence_follows_the_k_rule():
    row = pd.Series({"median_days_to_close": 0.5, "p90_days_to_close": 2.25,
                     "count_with_days_to_close": K})
    assert lookup.typical_sentence(row, "Pothole", "the year", K) == (
        "Half of the requests like this are closed within 12.0 hours, and 9 in 10 within "
        "2.2 days (from the 3 Pothole requests made in the year that have been closed).")
    few = lookup.typical_sentence(row.replace(K, K - 1), "Pothole", "the year", K)
    assert "Too few" in few and "12.0" not in few
    assert dt.timedelta(days=365).days == 365
