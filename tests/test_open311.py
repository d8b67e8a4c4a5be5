"""Open311 GeoReport v2: saved responses (JSON, XML) and `pull` against a local server."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from civicstat.ingest.pipeline import ingest_files
from civicstat.ingest.sources import open311, pulling
from civicstat.ingest.sources.base import InputError

from citykit import make_city, stub_publish

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "open311"


@pytest.fixture(autouse=True)
def _no_publish(monkeypatch):
    stub_publish(monkeypatch)
    monkeypatch.setattr(pulling, "BACKOFF_SECONDS", 0.01)  # retries wait 0, 0.02, 0.04... s


def stored(city):
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        cursor = con.execute("select * exclude (source, run_id) from requests order by 1")
        names = [d[0] for d in cursor.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()


def load(tmp_path, name):
    city = make_city(tmp_path, timezone="America/Chicago")
    summary = ingest_files(city, [FIXTURES / name], open311.ADAPTER)
    return summary, stored(city)


@pytest.mark.parametrize("name", ["requests.json", "requests.xml"])
def test_saved_responses(tmp_path, name):
    summary, rows = load(tmp_path, name)
    assert (summary.read, summary.inserted, summary.rejected) == (5, 4, 1)
    assert summary.rejected_by_reason == {"no_id": 1}
    assert set(rows) == {"101", "102", "105", "token:abc-123"}
    one = rows["101"]
    assert one["created_at"] == datetime(2024, 3, 1, 9, 0)
    assert one["closed_at"] == datetime(2024, 3, 2, 9, 30)  # the "closed" note
    assert one["updated_at"] == datetime(2024, 3, 2, 10, 0)
    assert one["due_at"] == datetime(2024, 3, 4, 9, 0)  # expected_datetime
    assert (one["status"], one["closure"], one["channel"], one["department"]) == (
        "closed", "resolved", "phone", "Streets")
    assert (one["request_type"], one["resolution"], one["district"]) == (
        "Pothole", "Pothole filled", "1")
    assert rows["102"]["created_at"] == datetime(2024, 3, 1, 9, 0)  # 15:00Z is 09:00 CST
    assert rows["102"]["district"] == "4"
    five = rows["105"]
    assert (five["closure"], five["closed_at"], five["district"]) == (
        "duplicate", datetime(2024, 3, 3, 7, 0), "4")  # no coordinates: the ward


def test_json_and_xml_agree(tmp_path):
    assert load(tmp_path / "j", "requests.json")[1] == load(tmp_path / "x", "requests.xml")[1]


def test_server_error_document_is_an_input_error():
    with pytest.raises(InputError, match="403 Invalid api_key"):
        open311.parse_response(b'[{"code": 403, "description": "Invalid api_key"}]', "x.json")
    with pytest.raises(InputError, match="not readable JSON"):
        open311.parse_response(b"[{", "x.json")


def test_single_request_document():
    records = open311.parse_response(b'{"service_request_id": "7", "status": "open"}', "r.json")
    assert records == [{"service_request_id": "7", "status": "open"}]


@pytest.mark.shared
def test_real_chicago_responses(tmp_path, shared_data):
    from civicstat.core.city import load_city

    folder = shared_data / "open311"
    (tmp_path / "city.toml").write_text(
        'name = "Chicago"\ntimezone = "America/Chicago"\n[[boundaries]]\n'
        f'layer = "neighborhood"\nfile = "{folder / "chicago_neighborhoods_clickthathood.geojson"}"'
        '\nkey = "name"\n', encoding="utf-8")
    city = load_city(tmp_path)
    summary = ingest_files(city, [folder / "chicago_open311_requests_2012-12-01_srtracker.json"],
                           open311.ADAPTER)
    assert (summary.read, summary.inserted, summary.rejected) == (50, 43, 7)
    assert summary.rejected_by_reason == {"no_id": 7}  # "submitted", not yet given an id
    assert summary.created_min == datetime(2012, 11, 22, 22, 6, 28)
    assert summary.created_max == datetime(2012, 12, 1, 13, 53, 2)
    assert summary.with_district == 43  # the ward, from extended_attributes
    assert summary.flagged == {"placeholder_coordinates": 1}
    rows = stored(city)
    assert sum(r["neighborhood"] is not None for r in rows.values()) == 42  # all but (0, 0)
    single = ingest_files(city, [folder / "chicago_open311_request_single_srtracker.json"],
                          open311.ADAPTER)
    assert (single.read, single.unchanged) == (1, 1)


# --- pull -----------------------------------------------------------------------------------

FIRST = datetime(2024, 1, 1, 12, tzinfo=UTC)
SERVED = [  # one request a day at noon UTC, 2024-01-01 .. 2024-07-14
    {"service_request_id": f"R{i}", "status": "open", "service_name": "Pothole",
     "requested_datetime": (FIRST + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
     "lat": 40.05, "long": -73.95}
    for i in range(196)
]


class Open311Server:
    """A GeoReport v2 endpoint on 127.0.0.1 that filters by date and pages its answers."""

    def __init__(self, *, ignore_page: bool = False, fail: int | None = None, flaky: int = 0,
                 answer=None):
        """FAIL: answer every request with that status; FLAKY: answer the first ones with 502;
        ANSWER(page, size): the records of a page, instead of paging through SERVED."""
        self.queries: list[dict] = []
        self.flaky = flaky
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                server.queries.append({"path": parts.path, **query})
                if fail:
                    self.send_error(fail)
                    return
                if server.flaky:
                    server.flaky -= 1
                    self.send_error(502)
                    return
                start = datetime.fromisoformat(query["start_date"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(query["end_date"].replace("Z", "+00:00"))
                size = int(query["page_size"])
                page = 1 if ignore_page else int(query["page"])
                hits = [r for r in SERVED if start <= datetime.fromisoformat(
                    r["requested_datetime"].replace("Z", "+00:00")) < end]
                chosen = answer(page, size) if answer else hits[(page - 1) * size: page * size]
                body = json.dumps(chosen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/open311/v2/requests.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_windows_are_at_most_90_days():
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cut = open311.windows(start, start + timedelta(days=200))
    assert [(hi - lo).days for lo, hi in cut] == [90, 90, 20]
    assert all(a[1] == b[0] for a, b in zip(cut, cut[1:], strict=False))


def test_pull_pages_through_90_day_windows(tmp_path):
    with Open311Server() as server:
        files = open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled",
                             timezone="UTC", until=date(2024, 7, 1), page_size=25)
    windows = {(q["start_date"], q["end_date"]) for q in server.queries}
    assert len(windows) == 3
    for start, end in windows:
        lo, hi = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in (start, end))
        assert timedelta(0) < hi - lo <= timedelta(days=90)
    # 182 requests in range: windows of 90, 90, 2 days -> 4 + 4 + 1 pages, each then an empty one
    assert len(files) == 9
    assert len(server.queries) == 12
    assert all(q["page_size"] == "25" for q in server.queries)
    records = [r for f in files for r in open311.parse_response(f.read_bytes(), f.name)]
    assert len(records) == 182 == len({r["service_request_id"] for r in records})


def test_pull_stops_when_the_server_ignores_page(tmp_path):
    with Open311Server(ignore_page=True) as server:
        files = open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled",
                             timezone="UTC", until=date(2024, 2, 1), page_size=10)
    assert len(files) == 1 and len(server.queries) == 2


def test_pull_http_error_is_an_input_error(tmp_path):
    with Open311Server(fail=500) as server, pytest.raises(InputError, match="HTTP 500"):
        open311.pull(server.url, date(2024, 1, 1), tmp_path, timezone="UTC",
                     until=date(2024, 1, 2))


def test_pull_survives_a_transient_502(tmp_path):
    with Open311Server(flaky=1) as server:
        files = open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled",
                             timezone="UTC", until=date(2024, 2, 1), page_size=10)
    assert server.flaky == 0 and len(server.queries) == 6  # the 502, then pages 1-4 and an empty 5
    records = [r for f in files for r in open311.parse_response(f.read_bytes(), f.name)]
    assert len(records) == 31


def test_pull_gives_up_with_a_clear_error_after_the_retries(tmp_path):
    started = time.monotonic()
    with Open311Server(fail=502) as server, pytest.raises(InputError) as caught:
        open311.pull(server.url, date(2024, 1, 1), tmp_path, timezone="UTC",
                     until=date(2024, 1, 2))
    assert time.monotonic() - started < 5
    assert len(server.queries) == 1 + pulling.RETRIES
    message = str(caught.value)
    assert message.startswith(server.url.split("?")[0]) and "HTTP 502 Bad Gateway" in message
    assert f"after {pulling.RETRIES} retries" in message


def test_pull_command_reports_exhausted_retries_on_one_line(tmp_path, capsys):
    from civicstat.cli.main import main

    city = make_city(tmp_path)
    with Open311Server(fail=503) as server:
        status = main(["pull", str(city.root), server.url, "--since", "2024-01-01",
                       "--until", "2024-01-02"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("civicstat: error:")] == [
        line for line in err.splitlines() if "HTTP 503" in line]


def test_pull_unreachable_server(tmp_path):
    with Open311Server() as server:
        url = server.url
    with pytest.raises(InputError, match="cannot reach"):
        open311.pull(url, date(2024, 1, 1), tmp_path, timezone="UTC", until=date(2024, 1, 2))


def test_requests_url():
    assert open311.requests_url("https://h/open311/v2") == "https://h/open311/v2/requests.json"
    assert open311.requests_url("https://h/v2/requests.xml?api_key=k") == (
        "https://h/v2/requests.xml?api_key=k")
    with pytest.raises(InputError, match="not an http"):
        open311.requests_url("ftp://h/requests.json")


def test_pull_command_ingests_what_it_fetched(tmp_path, capsys):
    from civicstat.cli.main import main

    city = make_city(tmp_path)
    with Open311Server() as server:
        status = main(["pull", str(city.root), server.url, "--since", "2024-01-01",
                       "--until", "2024-07-01", "--page-size", "50", "--json"])
    assert status == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts == {"read": 182, "inserted": 182, "updated": 0, "unchanged": 0,
                      "rejected": 0, "rejected_by_reason": {}, "duplicate_ids": 0,
                      "changed": True, "published": counts["published"]}
    saved = list((city.root / "pulls").glob("*/*.json"))
    assert sum(len(json.loads(p.read_text())) for p in saved) == 182


def _request(number: int) -> dict:
    return {"service_request_id": f"N{number}", "requested_datetime": "2024-01-02T10:00:00Z",
            "service_name": "Pothole", "status": "open"}


def test_pull_refuses_a_server_that_never_stops_paging(tmp_path):
    """New requests on every page, for ever: a clear error after max_pages, with what was kept."""
    def endless(page, size):
        return [_request(page * size + i) for i in range(size)]

    with Open311Server(answer=endless) as server, pytest.raises(InputError, match="still paging"):
        open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled", timezone="UTC",
                     until=date(2024, 1, 5), page_size=3, max_pages=5)
    assert len(server.queries) == 5


def test_pull_stops_when_a_page_holds_only_requests_already_seen(tmp_path):
    """A server that cycles through the same requests in another order ends the window."""
    def cycling(page, size):
        return [_request(i) for i in ([1, 2, 3] if page % 2 else [3, 2, 1])]

    with Open311Server(answer=cycling) as server:
        files = open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled", timezone="UTC",
                             until=date(2024, 1, 5), page_size=3)
    assert len(files) == 1 and len(server.queries) == 2


def test_pull_refuses_a_response_over_the_size_limit(tmp_path, monkeypatch):
    """A response larger than MAX_RESPONSE_BYTES is refused as it arrives, never held whole."""
    monkeypatch.setattr(pulling, "MAX_RESPONSE_BYTES", 2_000)
    with Open311Server() as server, pytest.raises(InputError, match="larger than"):
        open311.pull(server.url, date(2024, 1, 1), tmp_path / "pulled", timezone="UTC",
                     until=date(2024, 7, 1), page_size=100)
