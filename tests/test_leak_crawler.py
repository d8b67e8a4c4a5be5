"""The public pages crawled as an outsider would (issue 16, "Leaks"): a real server and Chromium,
parameter combinations drawn by hypothesis over every public page, and everything the visitor
receives read twice, as the page's DOM and as the websocket frames Streamlit sent (decoded to
its element protos, so a chart's data, a map's layers and a table's Arrow bytes are read, not
only what is drawn). Nothing private may be there: an address, a description, a resolution, a
coordinate finer than the public grid, the location of a "no location" type, an aggregate-only
type outside its city-wide totals, or a count below k (tests/leakcheck.py).

Before the crawl a signed-in staff member opens the same pages and the internal ones with the
same parameters, so a result cache that crossed audiences would show up in what the anonymous
visitor then receives.

The number of combinations is CIVICSTAT_CRAWL_EXAMPLES (default 16; the draw is derandomised so
CI is repeatable: raise it locally for a wider crawl).
"""

from __future__ import annotations

import os
import re
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from civicstat.core.filters import PERIOD_LABELS
from civicstat.core.privacy import COORDINATE_DECIMALS
from civicstat.publish.build import publish
from civicstat.web.maps import DISTRICT_METRICS
from civicstat.web.pages import PAGE_SPECS

import leakcheck
from browser_support import chromium, serve_app, submit_sign_in, wait_for_app
from smallcity import PRIVATE, ROWS, make_small_city
from test_browser_staff import ACCOUNTS, write_secrets

pytestmark = pytest.mark.browser

K = 3
EXAMPLES = int(os.environ.get("CIVICSTAT_CRAWL_EXAMPLES", "16"))
PUBLIC_PATHS = [spec.url_path for spec in PAGE_SPECS if spec.min_role == "anonymous"
                and spec.max_role == "admin"]
HOSTILE = ["", "'; drop table requests; --", "<script>alert(1)</script>", "x" * 300]
TYPES = sorted({row[7] for row in ROWS})
PARAMETERS: dict[str, list[str]] = {
    "period": [*PERIOD_LABELS.values(), "Last 9999 days"],
    "from": ["2024-03-01", "2024-01-01", "2024-03-31", "31/03/2024"],
    "to": ["2024-03-31", "2024-03-15", "2023-12-31"],
    "department": sorted({row[6] for row in ROWS}),
    "district": ["D1", "D2", "D3", "D4", "D9"],
    "category": sorted({row[6] for row in ROWS}),
    "request_type": TYPES,
    "channel": sorted({row[11] for row in ROWS}),
    "map_metric": [metric.label for metric in DISTRICT_METRICS.values()],
    "hex": ["250 m", "500 m", "1 km"],
    "grain": ["Week", "Month"],
    "compare": ["All requests", "Request types", "Categories", "Channels"],
    "series": ["Pothole", "Abuse Report", "Encampment", "phone"],
    "present": ["true", "false"],
    # the look-up page's request number: every request, the aggregate-only one (9: "not found")
    # and the no-location one (8: no location) among them, and one that does not exist
    "id": [row[0] for row in ROWS] + ["9", "8", "404"],
}

# Rows 1, 8 (Encampment: no location) and 9 (Abuse Report: aggregate only) sit at coordinates with
# six decimals; the public grid has three (any point finer is a leak: leakcheck.coordinate_leaks),
# and rows 8 and 9 have no public location at all, not even rounded. Numbers, not substrings:
# a hexagon's corners have six decimals of their own.
FINE_COORDINATES = [re.compile(rf"(?<![\d.]){re.escape(n)}(?!\d)") for n in (
    "40.012345", "74.987654", "40.051111", "74.851111", "40.151111", "74.951111",
    "40.051", "74.851", "40.151", "74.951",
)]
PRIVATE_TEXT = [PRIVATE["address"], "my neighbour", PRIVATE["resolution"]]
AGGREGATE_ONLY = "Abuse Report"
AGGREGATE_ONLY_ALLOWED_ON = {"about"}  # its city-wide totals and the list of sensitive types


def forbidden_strings(text: str, path: str) -> list[str]:
    found = [s for s in PRIVATE_TEXT if s in text]
    found += [pattern.pattern for pattern in FINE_COORDINATES if pattern.search(text)]
    if path not in AGGREGATE_ONLY_ALLOWED_ON and AGGREGATE_ONLY in text:
        found.append(AGGREGATE_ONLY)
    return found


def decoded(frames: list[bytes]) -> tuple[list, int]:
    """The element protos in the frames, and how many messages were only references to a
    message sent earlier (none are expected: every visit is a new session)."""
    elements, references = [], 0
    for frame in frames:
        message = ForwardMsg.FromString(frame)
        if message.WhichOneof("type") == "ref_hash":
            references += 1
        elif message.WhichOneof("type") == "delta" and message.delta.HasField("new_element"):
            elements.append(message.delta.new_element)
    return elements, references


class Visitor:
    """One browser page that records every binary websocket frame it receives."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.frames: list[bytes] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if isinstance(payload, bytes):
            self.frames.append(payload)

    def open(self, url: str) -> None:
        self.frames.clear()
        self.page.goto(url)
        wait_for_app(self.page)
        time.sleep(0.4)  # a rerun the first run triggers (URL-bound widgets) starts within this
        wait_for_app(self.page)


@pytest.fixture(scope="module")
def crawl_city(tmp_path_factory):
    city = make_small_city(tmp_path_factory.mktemp("crawl"))
    publish(city)
    return city


@pytest.fixture(scope="module")
def site(crawl_city, tmp_path_factory):
    """The served small city and one Chromium: (base URL, browser)."""
    secrets = write_secrets(tmp_path_factory.mktemp("crawl-secrets"))
    with serve_app(crawl_city.root, {"STREAMLIT_SECRETS_FILES": str(secrets)}) as url, \
            chromium() as browser:
        yield url, browser


@pytest.fixture(scope="module")
def staff_first(site):
    """A staff member's session opens the internal pages and every public page (in-app
    navigation keeps the sign-in), warming every cache with internal results first."""
    url, browser = site
    staff = Visitor(browser)
    staff.open(url + "/account")
    submit_sign_in(staff.page, "ada", ACCOUNTS["ada"][1])
    wait_for_app(staff.page)
    seen = {}
    for path in ("requests", "scorecards", "backlog", *PUBLIC_PATHS):
        group = "Public" if path in PUBLIC_PATHS else "Staff"
        staff.page.get_by_text(group, exact=True).first.click()
        staff.page.locator(f'a[href$="/{path}"]').first.click()
        wait_for_app(staff.page)
        time.sleep(0.3)
        wait_for_app(staff.page)
        seen[path] = staff.page.inner_text("body")
    internal_seen = seen["requests"]
    staff.context.close()
    return internal_seen


@pytest.fixture(scope="module")
def visitor(site, staff_first):
    url, browser = site
    anonymous = Visitor(browser)
    yield url, anonymous
    anonymous.context.close()


def page_findings(visitor: Visitor, path: str) -> list[str]:
    """What the last visit leaked, from the DOM and from the frames."""
    findings = [f"DOM: {s}" for s in forbidden_strings(visitor.page.content(), path)]
    body = visitor.page.inner_text("body")
    findings += [f"DOM: {phrase.group(0)!r} in {body[max(0, phrase.start() - 80):phrase.end()]!r}"
                 for phrase in leakcheck.COUNT_PHRASE.finditer(body)
                 if leakcheck.is_small(int(phrase.group(1).replace(",", "")), K)]
    raw = b"".join(visitor.frames).decode("utf-8", errors="replace")
    findings += [f"frames: {s}" for s in forbidden_strings(raw, path)]
    elements, references = decoded(visitor.frames)
    findings += [f"frames: {leak}" for leak in leakcheck.elements_leaks(elements, K)]
    findings += [f"frames: {leak}" for element in elements
                 for leak in leakcheck.coordinate_leaks(element, COORDINATE_DECIMALS)]
    if references:
        findings.append(f"{references} message references not read")
    if "This app has encountered an error" in body or "Traceback" in body:
        findings.append("the page shows an error")
    return findings


def test_every_public_page_with_its_defaults_leaks_nothing(visitor):
    url, anonymous = visitor
    kinds = set()
    for path in PUBLIC_PATHS:
        anonymous.open(f"{url}/{path}")
        elements, _ = decoded(anonymous.frames)
        kinds |= {element.WhichOneof("type") for element in elements}
        assert page_findings(anonymous, path) == [], path
    # what the checks read was there to read
    assert {"plotly_chart", "deck_gl_json_chart", "dataframe", "metric", "html"} <= kinds


def test_the_lookup_page_leaks_nothing_for_any_request_number(visitor):
    """Every request's number on /lookup (the draw above may not reach each): its public record
    only; the aggregate-only request (9) answers "Not found" as a number that does not exist."""
    url, anonymous = visitor
    for number in [*dict.fromkeys(PARAMETERS["id"]), *HOSTILE]:
        anonymous.open(f"{url}/lookup?{urlencode({'id': number})}")
        assert page_findings(anonymous, "lookup") == [], number
        body = anonymous.page.inner_text("body")
        if number in ("9", "404"):
            assert "Not found" in body and "Request number" in body, number
        elif number == "1":
            assert "Pothole" in body and "Closed by its due date" in body


combinations = st.tuples(
    st.sampled_from(PUBLIC_PATHS),
    st.lists(st.sampled_from(sorted(PARAMETERS)), unique=True, max_size=5).flatmap(
        lambda names: st.fixed_dictionaries(
            {name: st.sampled_from(PARAMETERS[name]) | st.sampled_from(HOSTILE) for name in names}
        )
    ),
)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(combination=combinations)
def test_generated_parameter_combinations_leak_nothing(visitor, combination):
    url, anonymous = visitor
    path, params = combination
    anonymous.open(f"{url}/{path}?{urlencode(params)}")
    assert page_findings(anonymous, path) == [], (path, params)


def test_the_crawler_sees_what_it_looks_for(site, staff_first):
    """Not vacuous: the staff session that ran first did receive private text (the Requests page
    shows addresses), and the checks name it."""
    assert forbidden_strings(staff_first + " 40.012345", "requests"), staff_first[:300]
