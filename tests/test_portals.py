"""Pulls from the open-data portals (sources/portals.py, `civicstat pull --socrata/--arcgis/--ckan`)
against local servers that answer as Socrata SODA, an ArcGIS feature layer and CKAN's DataStore
do: paging and the servers' own limits, a 429 then success, a 500 mid-way, exceededTransferLimit,
CKAN's total, incremental pulls, replays, and a pull killed with SIGKILL then run again."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from civicstat.cli.main import main
from civicstat.ingest.pipeline import PAUSE_ENV, ingest_files
from civicstat.ingest.sources import portals, pulling
from civicstat.ingest.sources.base import InputError
from civicstat.ingest.sources.mapping import parse_mapping

from citykit import CENTRES, make_city, stub_publish

ROOT = Path(__file__).resolve().parent.parent
CITY_TZ = ZoneInfo("America/New_York")  # make_city's
TYPES = ("Pothole", "Streetlight", "Graffiti")


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    stub_publish(monkeypatch)
    monkeypatch.setattr(pulling, "BACKOFF_SECONDS", 0.01)  # retries wait 0, 0.02, 0.04... s


# --- the data the servers hold --------------------------------------------------------------


def dataset(n: int = 12) -> list[dict]:
    """N requests on the city's clock: created a day apart from 2024-01-01 09:00, updated an hour
    later; every third one closed; alternately in districts 1 and 4."""
    rows = []
    for i in range(n):
        created = datetime(2024, 1, 1, 9) + timedelta(days=i)
        lat, lon = CENTRES["1" if i % 2 == 0 else "4"]
        rows.append({"id": f"SR-{i:03d}", "created": created, "updated": created + timedelta(hours=1),
                     "status": "Closed" if i % 3 == 2 else "Open", "type": TYPES[i % 3],
                     "lat": lat, "lon": lon})
    return rows


def changed(rows: list[dict]) -> list[dict]:
    """ROWS a week later: SR-000 and SR-003 closed, one new request."""
    later = datetime(2024, 2, 1, 8)
    out = [dict(r) for r in rows]
    for row in out:
        if row["id"] in ("SR-000", "SR-003"):
            row.update(status="Closed", updated=later)
    out.append({"id": "SR-NEW", "created": later, "updated": later, "status": "Open",
                "type": "Pothole", "lat": CENTRES["2"][0], "lon": CENTRES["2"][1]})
    return out


def floating(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000"


def epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=CITY_TZ).timestamp() * 1000)


# --- one local server, three API dialects ---------------------------------------------------


class Server:
    """A portal on 127.0.0.1. `rows` is what it holds (change it between pulls); `queries` the
    query strings it was asked (dicts); `faults[n]` answers the n-th request (from 1) with
    (status, headers) instead; `block_at` makes the n-th request wait for `release`."""

    def __init__(self, answer):
        self.rows = dataset()
        self.queries: list[dict] = []
        self.faults: dict[int, tuple[int, dict]] = {}
        self.block_at: int | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                with server.lock:
                    server.queries.append({"path": parts.path, **query})
                    number = len(server.queries)
                if number == server.block_at:
                    server.reached.set()
                    server.release.wait(120)
                if number in server.faults:
                    status, headers = server.faults[number]
                    body = b""
                else:
                    status, document = answer(server, parts.path, query)
                    headers, body = {"Content-Type": "application/json"}, json.dumps(document)
                try:
                    self.send_response(status)
                    for name, value in {**headers, "Content-Length": len(body)}.items():
                        self.send_header(name, str(value))
                    self.end_headers()
                    self.wfile.write(body.encode() if isinstance(body, str) else body)
                except OSError:
                    pass  # the client was killed

            def log_message(self, *args):
                pass

        self.handler = Handler
        self.base = ""


@contextmanager
def serving(answer):
    """A Server answering with ANSWER(server, path, query), on a free port while in the block."""
    server = Server(answer)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), server.handler)
    server.base = f"http://127.0.0.1:{httpd.server_port}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.release.set()  # a request held for a kill test ends
        httpd.shutdown()
        httpd.server_close()


def _since(where: str | None, pattern: str) -> datetime | None:
    found = re.search(pattern, where or "")
    return datetime.fromisoformat(found.group(1)) if found else None


# Socrata SODA: floating timestamps on the city's clock, $order=:id, $limit capped at 1000

SOCRATA_TYPES = {"case_id": "text", "opened": "calendar_date", "updated": "calendar_date",
                 "status": "text", "type": "text", "location": "location"}


def socrata(server: Server, path: str, query: dict):
    if path == "/api/views/abcd-1234.json":  # the dataset's description
        return 200, {"id": "abcd-1234", "columns": [
            {"fieldName": k, "dataTypeName": v} for k, v in SOCRATA_TYPES.items()]}
    if not path.endswith("/resource/abcd-1234.json"):
        return 404, {"error": True, "message": "not found"}
    since = _since(query.get("$where"), r"updated >= '([^']+)'")
    rows = [r for r in server.rows if since is None or r["updated"] >= since]
    if query.get("$select") == "count(*)":
        return 200, [{"count": str(len(rows))}]
    assert query["$order"] == ":id"
    offset, limit = int(query.get("$offset", 0)), min(int(query.get("$limit", 1000)), 1000)
    return 200, [
        {"case_id": r["id"], "opened": floating(r["created"]), "updated": floating(r["updated"]),
         "status": r["status"], "type": r["type"],
         "location": {"latitude": str(r["lat"]), "longitude": str(r["lon"])}}
        for r in rows[offset:offset + limit]
    ]


SOCRATA_MAPPING = {
    "name": "testville",
    "columns": {"request_id": "case_id", "created_at": "opened", "updated_at": "updated",
                "status": "status", "request_type": "type", "location": "location"},
}


# ArcGIS: epoch milliseconds (UTC), at most 4 features an answer (maxRecordCount)

MAX_RECORD_COUNT = 4
ARCGIS_FIELDS = [
    {"name": "OBJECTID", "type": "esriFieldTypeOID"},
    {"name": "CASE_ID", "type": "esriFieldTypeString"},
    {"name": "OPENED", "type": "esriFieldTypeDate"},
    {"name": "LAST_EDIT", "type": "esriFieldTypeDate"},
    {"name": "STATUS", "type": "esriFieldTypeString"},
    {"name": "TYPE", "type": "esriFieldTypeString"},
]


def arcgis(server: Server, path: str, query: dict):
    layer = "/arcgis/rest/services/Requests_311/FeatureServer/0"
    if path == layer:
        return 200, {"objectIdField": "OBJECTID", "maxRecordCount": MAX_RECORD_COUNT,
                     "fields": ARCGIS_FIELDS,
                     "advancedQueryCapabilities": {"supportsPagination": True}}
    if path != layer + "/query":
        return 200, {"error": {"code": 400, "message": "Invalid URL"}}
    since = _since(query["where"], r"LAST_EDIT >= TIMESTAMP '([^']+)'")
    assert since is not None or query["where"] == "1=1"
    rows = [(i, r) for i, r in enumerate(server.rows, start=1) if since is None or
            datetime.fromtimestamp(epoch_ms(r["updated"]) / 1000, UTC).replace(tzinfo=None) >= since]
    if query.get("returnCountOnly") == "true":
        return 200, {"count": len(rows)}
    assert (query["outFields"], query["outSR"], query["f"]) == ("*", "4326", "json")
    assert query["orderByFields"] == "OBJECTID"
    offset = int(query["resultOffset"])
    count = min(int(query["resultRecordCount"]), MAX_RECORD_COUNT)
    chosen = rows[offset:offset + count]
    return 200, {
        "objectIdFieldName": "OBJECTID", "fields": ARCGIS_FIELDS,
        "exceededTransferLimit": offset + count < len(rows),
        "features": [
            {"attributes": {"OBJECTID": i, "CASE_ID": r["id"], "OPENED": epoch_ms(r["created"]),
                            "LAST_EDIT": epoch_ms(r["updated"]), "STATUS": r["status"],
                            "TYPE": r["type"]},
             "geometry": {"x": r["lon"], "y": r["lat"]}}
            for i, r in chosen
        ],
    }


ARCGIS_MAPPING = {  # no coordinates named: the point geometry's
    "name": "testville",
    "columns": {"request_id": "CASE_ID", "created_at": "OPENED", "updated_at": "LAST_EDIT",
                "status": "STATUS", "request_type": "TYPE"},
}


# CKAN DataStore: fields with spaces, at most 5 records an answer (rows_max), `total`

ROWS_MAX = 5


def ckan(server: Server, path: str, query: dict):
    if not path.endswith("/api/3/action/datastore_search") or query.get("resource_id") != "r-311":
        return 404, {"success": False, "error": {"message": "Not found: Resource was not found."}}
    rows = [{"_id": i, "Case ID": r["id"],
             "Date Opened": r["created"] and f"{r['created']:%Y-%m-%dT%H:%M:%S}",
             "Last Updated": f"{r['updated']:%Y-%m-%dT%H:%M:%S}", "Status": r["status"],
             "Type": r["type"], "Latitude": r["lat"], "Longitude": r["lon"]}
            for i, r in enumerate(server.rows, start=1)]
    sort = query.get("sort", '"_id"')
    if sort.startswith('"Last Updated" desc'):
        rows.sort(key=lambda r: (r["Last Updated"], -r["_id"]), reverse=True)
    else:
        assert sort == '"_id"'
    offset, limit = int(query.get("offset", 0)), min(int(query.get("limit", 100)), ROWS_MAX)
    fields = [{"id": k, "type": "text"} for k in rows[0]] if rows else []
    return 200, {"success": True, "result": {
        "resource_id": "r-311", "fields": fields, "total": len(rows),
        "records": rows[offset:offset + limit] if limit else []}}


CKAN_MAPPING = {
    "name": "testville",
    "columns": {"request_id": "Case ID", "created_at": "Date Opened",
                "updated_at": "Last Updated", "status": "Status", "request_type": "Type",
                "lat": "Latitude", "lon": "Longitude"},
}

PORTALS = {  # kind -> (answer, path of the URL, mapping)
    "socrata": (socrata, "/resource/abcd-1234.json", SOCRATA_MAPPING),
    "arcgis": (arcgis, "/arcgis/rest/services/Requests_311/FeatureServer/0", ARCGIS_MAPPING),
    "ckan": (ckan, "/api/3/action/datastore_search?resource_id=r-311", CKAN_MAPPING),
}


def portal(kind: str):
    return serving(PORTALS[kind][0])


def url_of(kind: str, server: Server) -> str:
    return server.base + PORTALS[kind][1]


def spec_of(kind: str):
    return parse_mapping(PORTALS[kind][2])


def mapping_file(folder: Path, kind: str) -> Path:
    """The portal's mapping as the TOML file a user writes."""
    mapping = PORTALS[kind][2]
    lines = [f"name = {json.dumps(mapping['name'])}", "[columns]"]
    lines += [f"{field} = {json.dumps(column)}" for field, column in mapping["columns"].items()]
    path = folder / f"{kind}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pull_and_load(city, kind: str, server: Server, **options):
    pulled = portals.pull(city, kind, url_of(kind, server), spec=spec_of(kind), **options)
    return pulled, ingest_files(city, pulled.files, pulled.adapter)


def stored(city, *, source: bool = False) -> dict:
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        cursor = con.execute("select * exclude (run_id) from requests order by request_id")
        names = [d[0] for d in cursor.description]
        rows = {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()
    if not source:
        for row in rows.values():
            row.pop("source")
    return rows


def expected(rows: list[dict]) -> dict:
    """What the store should hold for ROWS, computed here, not by the adapter."""
    return {r["id"]: {"created_at": r["created"], "updated_at": r["updated"],
                      "status": r["status"].lower(), "request_type": r["type"],
                      "lat": r["lat"], "lon": r["lon"],
                      "district": "1" if (r["lat"], r["lon"]) == CENTRES["1"] else
                      "4" if (r["lat"], r["lon"]) == CENTRES["4"] else "2"}
            for r in rows}


def essentials(rows: dict) -> dict:
    keys = ("created_at", "updated_at", "status", "request_type", "lat", "lon", "district")
    return {k: {c: v[c] for c in keys} for k, v in rows.items()}


def identity(summary) -> bool:
    return summary.read == summary.inserted + summary.updated + summary.unchanged + summary.rejected


# --- each portal: a whole pull, then an incremental one, then a replay ----------------------


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_pull_loads_every_record_as_published(tmp_path, kind):
    city = make_city(tmp_path)
    with portal(kind) as server:
        pulled, summary = pull_and_load(city, kind, server, page_size=5)
    assert (summary.read, summary.inserted, summary.rejected) == (12, 12, 0) and identity(summary)
    assert pulled.since is None and not pulled.incremental
    assert essentials(stored(city)) == expected(dataset())
    sources = {r["source"] for r in stored(city, source=True).values()}
    assert all(s.startswith(f"testville:{kind}-") for s in sources)


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_incremental_pull_asks_only_for_newer_records(tmp_path, kind):
    city, fresh = make_city(tmp_path), make_city(tmp_path, folder="fresh")
    with portal(kind) as server:
        pull_and_load(city, kind, server, page_size=5)
        server.rows = changed(server.rows)
        server.queries.clear()
        pulled, summary = pull_and_load(city, kind, server, page_size=5)
        asked = list(server.queries)
        server.queries.clear()
        pull_and_load(fresh, kind, server, page_size=5)  # the same data, pulled whole
    newest = max(r["updated"] for r in dataset())  # SR-011's update, on the city's clock
    assert pulled.incremental and pulled.since == newest
    if kind == "socrata":
        wheres = {q.get("$where") for q in asked if q["path"].startswith("/resource/")}
        assert wheres == {f"updated >= '{floating(newest)}'"}
    elif kind == "arcgis":
        utc = newest.replace(tzinfo=CITY_TZ).astimezone(UTC)
        queries = [q for q in asked if q["path"].endswith("/query")]
        assert {q["where"] for q in queries} == {f"LAST_EDIT >= TIMESTAMP '{utc:%Y-%m-%d %H:%M:%S}'"}
    else:  # newest first, and no page after the first record older than the newest loaded
        pages = [q for q in asked if q.get("limit") != "0"]
        assert [q["sort"] for q in pages] == ['"Last Updated" desc, "_id"']
    # SR-000 and SR-003 updated, SR-NEW inserted, SR-011 (the newest loaded) asked again
    assert (summary.read, summary.inserted, summary.updated, summary.unchanged) == (4, 1, 2, 1)
    assert identity(summary)
    assert stored(city) == stored(fresh)
    assert essentials(stored(city)) == expected(changed(dataset()))


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_a_replay_changes_nothing(tmp_path, kind):
    city = make_city(tmp_path)
    with portal(kind) as server:
        pull_and_load(city, kind, server, page_size=5)
        before = stored(city, source=True)
        _, again = pull_and_load(city, kind, server, page_size=5)
        _, whole = pull_and_load(city, kind, server, page_size=5, full=True)
    assert (again.read, again.unchanged, again.changed) == (1, 1, False)
    assert (whole.read, whole.unchanged, whole.changed) == (12, 12, False)
    assert identity(again) and identity(whole)
    assert stored(city, source=True) == before


# --- each API's paging and limits -----------------------------------------------------------


def test_socrata_pages_by_offset_ordered_by_id_until_an_empty_page(tmp_path):
    city = make_city(tmp_path)
    with portal("socrata") as server:
        pull_and_load(city, "socrata", server, page_size=5)
    assert [(q["$offset"], q["$limit"], q["$order"]) for q in server.queries] == [
        ("0", "5", ":id"), ("5", "5", ":id"), ("10", "5", ":id"), ("12", "5", ":id")]
    assert all("$where" not in q for q in server.queries)  # a first pull asks for everything


def test_socrata_app_token_and_a_where_of_the_url_are_kept(tmp_path, monkeypatch):
    city = make_city(tmp_path)
    seen = []
    with portal("socrata") as server:
        real = pulling.http_fetcher

        def fetcher(**kwargs):
            seen.append(kwargs.get("headers"))
            return real(**kwargs)

        monkeypatch.setattr(pulling, "http_fetcher", fetcher)
        monkeypatch.setenv("SOCRATA_APP_TOKEN", "tok-123")
        url = url_of("socrata", server) + "?$where=type='Pothole'"
        portals.pull(city, "socrata", url, spec=spec_of("socrata"), since=datetime(2024, 1, 5))
    assert seen == [{"X-App-Token": "tok-123"}]
    assert {q["$where"] for q in server.queries if q["path"].startswith("/resource/")} == {
        "(type='Pothole') AND updated >= '2024-01-05T00:00:00.000'"}


def test_socrata_refuses_to_ask_since_a_time_of_a_text_column(tmp_path, monkeypatch):
    monkeypatch.setitem(SOCRATA_TYPES, "updated", "text")
    city = make_city(tmp_path)
    with portal("socrata") as server:
        pull_and_load(city, "socrata", server)  # a first pull asks for everything
        with pytest.raises(InputError, match="updated is a text column"):
            pull_and_load(city, "socrata", server)
    assert not [q for q in server.queries if q.get("$where")]


def test_arcgis_follows_exceeded_transfer_limit(tmp_path):
    """The layer answers at most 4 features whatever is asked: paging goes on while
    exceededTransferLimit is set, and ends with the answer that no longer sets it."""
    city = make_city(tmp_path)
    with portal("arcgis") as server:
        _, summary = pull_and_load(city, "arcgis", server, page_size=50)
    queries = [q for q in server.queries if q["path"].endswith("/query")]
    assert [q["resultOffset"] for q in queries] == ["0", "4", "8"]
    assert all(q["resultRecordCount"] == "50" for q in queries)
    assert summary.inserted == 12


def test_arcgis_asks_since_a_time_of_date_fields_only(tmp_path):
    city = make_city(tmp_path)
    with portal("arcgis") as server, pytest.raises(InputError, match="STATUS is not a date"):
        portals.pull(city, "arcgis", url_of("arcgis", server), spec=spec_of("arcgis"),
                     updated_field="status", since=datetime(2024, 1, 5))


def test_arcgis_dates_are_utc_epoch_milliseconds():
    assert portals.epoch_ms_text(1704117600000) == "2024-01-01T14:00:00.000Z"
    assert portals.epoch_ms_text(None) is None and portals.epoch_ms_text("x") == "x"


def test_arcgis_layer_that_does_not_page_is_refused(tmp_path):
    def no_paging(server, path, query):
        return 200, {"objectIdField": "OBJECTID", "maxRecordCount": 1000, "fields": ARCGIS_FIELDS,
                     "advancedQueryCapabilities": {"supportsPagination": False}}

    with serving(no_paging) as server, pytest.raises(InputError, match="does not page"):
        portals.pull(make_city(tmp_path), "arcgis", url_of("arcgis", server),
                     spec=spec_of("arcgis"))


def test_ckan_pages_against_total_within_the_server_limit(tmp_path):
    """The DataStore answers at most 5 records whatever the limit: offsets follow what came, and
    paging ends when `total` is reached (no empty page asked for)."""
    city = make_city(tmp_path)
    with portal("ckan") as server:
        _, summary = pull_and_load(city, "ckan", server, page_size=100)
    pages = [q for q in server.queries if q.get("limit") != "0"]
    assert [q["offset"] for q in pages] == ["0", "5", "10"]
    assert summary.inserted == 12


def test_ckan_error_answer_is_one_clear_error(tmp_path):
    with portal("ckan") as server, pytest.raises(InputError, match="Resource was not found"):
        portals.pull(make_city(tmp_path), "ckan",
                     server.base + "/api/3/action/datastore_search?resource_id=gone",
                     spec=spec_of("ckan"))


def test_an_unknown_updated_field_names_the_fields(tmp_path):
    city = make_city(tmp_path)
    with portal("ckan") as server:
        pull_and_load(city, "ckan", server)
        with pytest.raises(InputError, match="no field 'Modified'.*Last Updated"):
            portals.pull(city, "ckan", url_of("ckan", server), spec=spec_of("ckan"),
                         updated_field="Modified")


def test_a_server_that_ignores_the_offset_is_an_error(tmp_path):
    def stuck(server, path, query):
        return socrata(server, path, {**query, "$offset": "0"})

    with serving(stuck) as server, pytest.raises(InputError, match="ignores the paging"):
        portals.pull(make_city(tmp_path), "socrata", url_of("socrata", server),
                     spec=spec_of("socrata"), page_size=5)


def test_a_nyc_preset_pull_asks_by_its_updated_field(tmp_path):
    """--source nyc: NYC's own adapter reads the pages, incremental on
    resolution_action_updated_date as the API spells it."""
    def nyc(server, path, query):
        if not path.startswith("/resource/"):
            return 404, {"message": "no such dataset description"}  # not checked, then
        since = _since(query.get("$where"), r"resolution_action_updated_date >= '([^']+)'")
        rows = [r for r in server.rows if since is None or r["updated"] >= since]
        offset, limit = int(query["$offset"]), int(query["$limit"])
        return 200, [{"unique_key": r["id"], "created_date": floating(r["created"]),
                      "resolution_action_updated_date": floating(r["updated"]),
                      "status": r["status"], "agency": "DOT", "complaint_type": r["type"],
                      "latitude": str(r["lat"]), "longitude": str(r["lon"])}
                     for r in rows[offset:offset + limit]]

    city = make_city(tmp_path)
    with serving(nyc) as server:
        url = url_of("socrata", server)
        first = portals.pull(city, "socrata", url, preset="nyc", page_size=5)
        loaded = ingest_files(city, first.files, first.adapter)
        server.queries.clear()
        second = portals.pull(city, "socrata", url, preset="nyc", page_size=5)
    assert loaded.inserted == 12 and essentials(stored(city)) == expected(dataset())
    newest = max(r["updated"] for r in dataset())
    assert {q["$where"] for q in server.queries if q["path"].startswith("/resource/")} == {
        f"resolution_action_updated_date >= '{floating(newest)}'"}
    assert second.records == 1


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_progress_counts_the_records_the_api_announced(tmp_path, kind):
    calls: list[tuple[int, int]] = []
    with portal(kind) as server:
        portals.pull(make_city(tmp_path), kind, url_of(kind, server), spec=spec_of(kind),
                     page_size=5, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12, 12)
    assert all(done < total == 12 for done, total in calls[:-1]) and len(calls) >= 3


def test_a_response_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(pulling, "MAX_RESPONSE_BYTES", 1_000)
    city = make_city(tmp_path)
    with portal("socrata") as server, pytest.raises(InputError, match="larger than 1,000 bytes"):
        pull_and_load(city, "socrata", server, page_size=10)
    assert not city.store_path.exists()


def test_an_answer_nested_too_deep_is_refused(tmp_path):
    def deep(server, path, query):
        document: object = "x"
        for _ in range(100):
            document = [document]
        return 200, document

    with serving(deep) as server, pytest.raises(InputError, match="nested deeper"):
        portals.pull(make_city(tmp_path), "socrata", url_of("socrata", server),
                     spec=spec_of("socrata"))


def test_pages_are_saved_in_files_of_a_bounded_size(tmp_path, monkeypatch):
    monkeypatch.setattr(portals, "FILE_RECORDS", 4)
    city = make_city(tmp_path)
    with portal("socrata") as server:
        pulled, summary = pull_and_load(city, "socrata", server, page_size=5)
    assert (pulled.pages, pulled.records) == (3, 12)
    assert [len(json.loads(f.read_text())) for f in pulled.files] == [4, 4, 4]
    assert summary.inserted == 12 and essentials(stored(city)) == expected(dataset())


def test_rejected_records_are_counted_and_a_replay_adds_nothing(tmp_path):
    """A record with no creation time goes to quarantine; pulling the same pages again counts
    it again (read = inserted + updated + unchanged + rejected) but adds no quarantine row and
    records no run (the pages keep their names)."""
    city = make_city(tmp_path)
    with portal("ckan") as server:
        server.rows[4]["created"] = None
        _, first = pull_and_load(city, "ckan", server, page_size=5)
        _, again = pull_and_load(city, "ckan", server, page_size=5, full=True)
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        quarantined = con.execute("select count(*) from quarantine").fetchone()[0]
        runs = con.execute("select count(*) from ingest_runs").fetchone()[0]
    finally:
        con.close()
    assert (first.read, first.inserted, first.rejected) == (12, 11, 1)
    assert first.rejected_by_reason == {"no_created_at": 1}
    assert (again.read, again.unchanged, again.rejected, again.changed) == (12, 11, 1, False)
    assert identity(first) and identity(again)
    assert (quarantined, runs) == (1, 1)


# --- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_a_429_is_retried_after_the_wait_the_server_asks_for(tmp_path, kind, monkeypatch):
    import urllib3.util.retry

    waits: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", waits.append)  # recorded, not slept
    city = make_city(tmp_path)
    with portal(kind) as server:
        server.faults[2] = (429, {"Retry-After": "7"})
        _, summary = pull_and_load(city, kind, server, page_size=5)
    assert 7 in waits
    assert server.queries[1] == server.queries[2]  # the same request, asked again
    assert summary.inserted == 12


@pytest.mark.parametrize("kind", ["socrata", "arcgis", "ckan"])
def test_a_500_mid_way_is_retried(tmp_path, kind):
    city = make_city(tmp_path)
    with portal(kind) as server:
        server.faults[3] = (500, {})
        _, summary = pull_and_load(city, kind, server, page_size=5)
    assert server.queries[2] == server.queries[3]
    assert summary.inserted == 12 and essentials(stored(city)) == expected(dataset())


def test_a_server_that_keeps_failing_is_one_error_and_loads_nothing(tmp_path):
    city = make_city(tmp_path)
    with portal("socrata") as server, pytest.raises(InputError, match="HTTP 503.*retries"):
        server.faults = dict.fromkeys(range(2, 20), (503, {}))
        pull_and_load(city, "socrata", server, page_size=5)
    assert not city.store_path.exists()


# --- the command ----------------------------------------------------------------------------


def test_pull_command_prints_the_ingest_summary(tmp_path, capsys):
    city = make_city(tmp_path)
    mapping = mapping_file(tmp_path, "socrata")
    with portal("socrata") as server:
        args = ["pull", str(city.root), "--socrata", url_of("socrata", server), "--mapping",
                str(mapping), "--json"]
        assert main(args) == 0
        first = json.loads(capsys.readouterr().out)
        assert main(args) == 0
        again = json.loads(capsys.readouterr().out)
    keys = ("read", "inserted", "updated", "unchanged", "rejected", "rejected_by_reason",
            "changed", "published")  # ingest's summary (it may say more: the same object)
    assert {k: first[k] for k in keys} == {
        "read": 12, "inserted": 12, "updated": 0, "unchanged": 0, "rejected": 0,
        "rejected_by_reason": {}, "changed": True, "published": "stub-1"}
    assert {k: again[k] for k in keys} == {
        "read": 1, "inserted": 0, "updated": 0, "unchanged": 1, "rejected": 0,
        "rejected_by_reason": {}, "changed": False, "published": None}


def test_the_readme_socrata_example_loads_a_city(tmp_path, capsys):
    """The README's one command and mapping file, against a SODA dataset with those fields."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Pulling from an open-data portal"):]
    command = re.search(r"```sh\n(.*?)```", section, re.S).group(1).replace("\\\n", " ")
    toml = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "mycity-311.toml").write_text(toml, encoding="utf-8")

    def city_portal(server, path, query):
        if not path.startswith("/resource/"):
            return 404, {"message": "no such dataset description"}
        since = _since(query.get("$where"), r"last_update_date >= '([^']+)'")
        rows = [r for r in server.rows if since is None or r["updated"] >= since]
        offset, limit = int(query["$offset"]), int(query["$limit"])
        return 200, [{"service_request_id": r["id"], "created_date": floating(r["created"]),
                      "last_update_date": floating(r["updated"]), "status": r["status"],
                      "sr_type": r["type"], "department": "Streets",
                      "location": {"latitude": str(r["lat"]), "longitude": str(r["lon"])}}
                     for r in rows[offset:offset + limit]]

    city = make_city(tmp_path)
    words = command.split()
    assert words[1:3] == ["pull", "cities/mycity"] and words[3] == "--socrata"
    with serving(city_portal) as server:
        args = ["pull", str(city.root), "--socrata", url_of("socrata", server),
                *[str(tmp_path / w) if w.endswith(".toml") else w for w in words[5:]], "--json"]
        assert main(args) == 0
        server.queries.clear()
        assert main(args) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (first["read"], first["inserted"], first["rejected"]) == (12, 12, 0)
    assert (second["read"], second["unchanged"], second["changed"]) == (1, 1, False)
    assert {q["$where"] for q in server.queries if q["path"].startswith("/resource/")} == {
        f"last_update_date >= '{floating(max(r['updated'] for r in dataset()))}'"}
    assert essentials(stored(city)) == expected(dataset())


def test_pull_command_says_what_it_asked_for(tmp_path, capsys):
    city = make_city(tmp_path)
    with portal("arcgis") as server:
        args = ["pull", str(city.root), "--arcgis", url_of("arcgis", server), "--mapping",
                str(mapping_file(tmp_path, "arcgis"))]
        assert main(args) == 0
        first = capsys.readouterr()
        assert main(args + ["--since", "2024-01-03", "--full"]) == 0
        again = capsys.readouterr()
    assert "Fetched 12 records (all records) in 3 page(s)." in first.err
    assert "inserted 12" in first.out
    assert "Fetched 10 records (from 2024-01-03) in 3 page(s)." in again.err
    assert "unchanged 10" in again.out and "Nothing changed" in again.out


def test_pull_command_needs_a_mapping_or_a_preset(tmp_path, capsys):
    city = make_city(tmp_path)
    assert main(["pull", str(city.root), "--socrata", "https://h/resource/abcd-1234.json"]) == 2
    assert "--mapping FILE or --source" in capsys.readouterr().err
    assert main(["pull", str(city.root), "--arcgis", "https://h/x/FeatureServer/0",
                 "--source", "nyc"]) == 2
    assert "socrata preset" in capsys.readouterr().err


# --- kill -9 --------------------------------------------------------------------------------

CHILD = """
import sys
import civicstat.publish.build as build
build.publish = lambda city: {"version": "stub"}  # as the in-process runs (tests/citykit.py)
build.snapshots_behind = lambda city: False
from civicstat.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _killed(args: list[str], *, server: Server | None = None, marker: Path | None = None):
    """Run `civicstat ARGS` in a child process and SIGKILL it once SERVER holds its blocked
    request, or once it wrote MARKER (ingest's pause before COMMIT)."""
    env = {**os.environ, **({PAUSE_ENV: str(marker)} if marker else {})}
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (server.reached.is_set() if server else marker.exists()):
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never got there"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL


def _store_and_runs(city) -> tuple[dict, list]:
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        runs = con.execute("select run_id, source, count_read, count_inserted, count_updated, "
                           "count_unchanged, count_rejected from ingest_runs order by 1").fetchall()
    finally:
        con.close()
    return stored(city, source=True), runs


@pytest.mark.parametrize("where", ["fetching", "committing"])
def test_a_killed_pull_run_again_ends_as_an_uninterrupted_one(tmp_path, where):
    """A first pull, the data changes, the second pull is killed (while fetching its second
    page, or inside ingest's transaction just before COMMIT) and run again: store and run log
    equal those of a city whose two pulls ran through."""
    reference, city = make_city(tmp_path, folder="reference"), make_city(tmp_path, folder="city")
    mapping = mapping_file(tmp_path, "ckan")
    with portal("ckan") as server:
        server.rows = dataset(12)
        url = url_of("ckan", server)

        def command(target):
            return ["pull", str(target.root), "--ckan", url, "--mapping", str(mapping),
                    "--page-size", "2", "--json"]

        for target in (reference, city):
            assert main(command(target)) == 0
        server.rows = changed(server.rows) + [
            {**changed(server.rows)[-1], "id": f"SR-X{i}", "updated": datetime(2024, 2, 2, 8, i)}
            for i in range(5)]
        assert main(command(reference)) == 0
        if where == "fetching":
            server.reached.clear()
            server.release.clear()
            server.block_at = len(server.queries) + 3  # description, page 1, then page 2
            _killed(command(city), server=server)
            server.block_at = None
            server.release.set()
        else:
            _killed(command(city), marker=tmp_path / "paused")
        assert main(command(city)) == 0
    assert _store_and_runs(city) == _store_and_runs(reference)
    assert len(_store_and_runs(city)[1]) == 2
