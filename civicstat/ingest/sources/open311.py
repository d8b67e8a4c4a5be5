"""Open311 GeoReport v2: `requests` responses (JSON or XML files), and `pull` from a live endpoint.

Mapping: request_id = service_request_id; a request the endpoint has not given an id yet but
that carries a `token` gets "token:<token>" (a later pull that has the id adds the request again
under its id: the token row is not merged into it); with neither, the record is quarantined
(no_id), as Chicago's "submitted" requests are. created/updated/due_at = requested / updated /
expected_datetime, converted from their offset to the city's local time; closed_at = the last
note of type "closed" (Chicago's extension), else updated_datetime when the status is closed;
department = agency_responsible; request_type = service_name; resolution = status_notes;
closure = duplicate when extended_attributes.duplicate is true, else from status_notes;
channel and source_district from extended_attributes (channel, ward / district) where present.

`pull` asks for windows of at most 90 days (start_date / end_date, the limit GeoReport sets) and
pages through each window (`page`, `page_size`) until a page comes back empty (or repeats the
previous one: a server that ignores `page`). A dropped connection or a 429 / 5xx answer is retried
with backoff (urllib3's Retry, honouring Retry-After), so one bad gateway does not end a long pull.
Each response is saved as a file, then the files are ingested like any other export, so
quarantine lines point at a file that exists.
"""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET  # element types only: parsing is defusedxml's
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from civicstat.core.errors import excerpt
from civicstat.ingest.sources import parsing, pulling
from civicstat.ingest.sources.base import InputError
from civicstat.ingest.sources.reading import Batch, canonical_frame, check_json_depth, sniff

NAME = "open311"
BATCH_RECORDS = 200_000
MAX_WINDOW = timedelta(days=90)
FIELDS = (
    "service_request_id", "token", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "requested_datetime", "updated_datetime",
    "expected_datetime", "address", "zipcode", "lat", "long",
    # flattened extensions
    "closed_datetime", "channel", "district", "duplicate",
)
DISTRICT_KEYS = ("ward", "district", "council_district")


# --- reading responses ----------------------------------------------------------------------


def _xml_value(element: ET.Element):
    children = list(element)
    if not children:
        return (element.text or "").strip() or None
    if all(child.tag == children[0].tag for child in children) and len(children) > 1:
        return [_xml_value(child) for child in children]
    return {child.tag: _xml_value(child) for child in children}


REQUEST_KEYS = ("service_request_id", "requested_datetime", "token")  # one makes a record


def parse_response(data: bytes, name: str) -> list[dict]:
    """The request records of one GeoReport v2 response (JSON or XML).

    XML is parsed by defusedxml: a document type with entities (a billion laughs, an external
    entity) is refused, never expanded or fetched. JSON deeper than reading.MAX_JSON_DEPTH, or
    not in a GeoReport shape (an object with service_requests / requests, one request, or a
    list holding at least one object, one of which has a GeoReport key), is refused; a list's
    other items are unreadable records.
    """
    text = data.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("<"):
        try:
            root = SafeET.fromstring(text, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise InputError(f"{name}: XML with a document type or entities is refused "
                             f"({type(exc).__name__})") from None
        except ET.ParseError as exc:
            raise InputError(f"{name}: not readable XML ({exc})") from None
        if root.tag == "errors":
            raise InputError(f"{name}: the Open311 server answered with an error: "
                             f"{excerpt(' '.join(root.itertext()), 200)}")
        tags = ("request", "service_request")
        elements = [root] if root.tag in tags else [e for e in root if e.tag in tags]
        return [{child.tag: _xml_value(child) for child in element} for element in elements]
    check_json_depth(text.encode("utf-8"), name)
    try:
        document = json.loads(text) if text else []
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{name}: not readable JSON ({exc})") from None
    shape = "a JSON " + type(document).__name__.replace("dict", "object")
    if isinstance(document, dict):
        if "service_requests" in document or "requests" in document:
            document = document.get("service_requests", document.get("requests"))
        elif any(key in document for key in REQUEST_KEYS):
            document = [document]
        else:
            keys = ", ".join(excerpt(k, 30) for k in list(document)[:8])
            raise InputError(f"{name}: not a GeoReport v2 requests response (an object with "
                             f"{keys or 'no keys'})")
    if not isinstance(document, list) or (
            document and not any(isinstance(r, dict) for r in document)):
        raise InputError(f"{name}: not a GeoReport v2 requests response ({shape} with no "
                         "request objects)")
    objects = [r for r in document if isinstance(r, dict)]
    if objects and not any(key in r for r in objects for key in (*REQUEST_KEYS, "code")):
        keys = ", ".join(excerpt(k, 30) for k in list(objects[0])[:8])
        raise InputError(f"{name}: not a GeoReport v2 requests response (its records have no "
                         f"service_request_id, requested_datetime or token: {keys}); use "
                         "--mapping for other JSON")
    errors = [r for r in document if isinstance(r, dict) and "code" in r and "description" in r
              and "service_request_id" not in r and "requested_datetime" not in r]
    if errors and len(errors) == len(document):
        raise InputError(f"{name}: the Open311 server answered with an error: "
                         f"{excerpt(errors[0]['code'])} {excerpt(errors[0]['description'], 200)}")
    return document


def _closed_note(notes) -> str | None:
    if isinstance(notes, dict):  # XML: <notes><note>...</note></notes>
        notes = notes.get("note", [])
    notes = [notes] if isinstance(notes, dict) else notes or []
    closed = [n.get("datetime") for n in notes if isinstance(n, dict) and n.get("type") == "closed"]
    return closed[-1] if closed else None


def _flatten(record: dict) -> dict[str, str | None]:
    extended = record.get("extended_attributes")
    extended = extended if isinstance(extended, dict) else {}
    flat = {key: record.get(key) for key in FIELDS}
    flat["closed_datetime"] = _closed_note(record.get("notes"))
    flat["channel"] = extended.get("channel")
    flat["district"] = next((extended[k] for k in DISTRICT_KEYS if extended.get(k)), None)
    flat["duplicate"] = extended.get("duplicate")
    return {k: None if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in flat.items()}


def records_batch(records: list, first_line: int = 1) -> Batch:
    """A reading.Batch of text columns (FIELDS) for parsed records, numbered from FIRST_LINE."""
    rows = [_flatten(r) if isinstance(r, dict) else dict.fromkeys(FIELDS) for r in records]
    table = pa.table({key: pa.array([row[key] for row in rows], pa.string()) for key in FIELDS})
    rejects = [None if isinstance(r, dict) else "unreadable record" for r in records]
    return Batch(
        table,
        np.arange(first_line, first_line + len(records), dtype=np.int64),
        reject=rejects if any(rejects) else None,
        raw_text=[json.dumps(r, ensure_ascii=False) for r in records],
        names=FIELDS,
    )


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    col = batch.column
    text = parsing.text
    token = text(col("token"))
    request_id = pc.coalesce(
        text(col("service_request_id")),
        pc.binary_join_element_wise(pa.scalar("token:"), token, ""),
    )
    raw_status = text(col("status"))
    updated = parsing.datetimes(col("updated_datetime"), timezone)
    is_closed = pc.fill_null(pc.equal(pc.utf8_lower(raw_status), "closed"), False)
    closed_at = pc.if_else(
        is_closed, pc.coalesce(parsing.datetimes(col("closed_datetime"), timezone), updated),
        pa.scalar(None, parsing.TIMESTAMP))
    state = parsing.lookup(raw_status, {"open": "open", "closed": "closed"})
    closure = parsing.closure(state, None, col("status_notes"))
    duplicate = pc.fill_null(pc.equal(parsing.truthy(col("duplicate")), True), False)
    closure = pc.if_else(pc.and_(duplicate, is_closed), "duplicate", closure)
    return {
        "request_id": request_id,
        "created_at": parsing.datetimes(col("requested_datetime"), timezone),
        "updated_at": updated,
        "closed_at": closed_at,
        "due_at": parsing.datetimes(col("expected_datetime"), timezone),
        "status": state,
        "closure": closure,
        "department": text(col("agency_responsible")),
        "request_type": text(col("service_name")),
        "channel": parsing.channel(col("channel")),
        "lat": parsing.numbers(col("lat")),
        "lon": parsing.numbers(col("long")),
        "address": text(col("address")),
        "description": text(col("description")),
        "resolution": text(col("status_notes")),
        "source_district": parsing.district(col("district")),
    }


@dataclass(frozen=True)
class Open311Adapter:
    """Reads saved GeoReport v2 `requests` responses (sources.base contract)."""

    name: str = NAME

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        encoding = sniff(path)  # an archive or binary file is refused; UTF-16 is decoded
        data = path.read_bytes()
        if encoding is not None:
            data = data.decode(encoding, errors="replace").encode("utf-8")
        records = parse_response(data, path.name)
        for start in range(0, len(records), BATCH_RECORDS):
            batch = records_batch(records[start:start + BATCH_RECORDS], start + 1)
            yield canonical_frame(batch, map_batch(batch, timezone), f"{self.name}:{path.name}")


ADAPTER = Open311Adapter()


# --- pulling from a live endpoint -----------------------------------------------------------
# The HTTP session (retries, backoff, the size limit) and the paging loop are sources.pulling's,
# shared with the open-data portals (sources.portals); this is GeoReport's dialect of them.


def requests_url(url: str) -> str:
    """The `requests` resource of an endpoint: URL itself if it names a .json/.xml resource."""
    parts = pulling.http_url(url)
    if parts.path.endswith((".json", ".xml")):
        return url
    path = parts.path.rstrip("/") + "/requests.json"
    return urllib.parse.urlunsplit(parts._replace(path=path))


def windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """[since, until) cut into consecutive windows of at most 90 days."""
    out = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        out.append((start, end))
        start = end
    return out


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_moment(day: date | datetime, timezone: str) -> datetime:
    """An aware datetime: a date is midnight on the city's clock; naive times are local."""
    if not isinstance(day, datetime):
        day = datetime.combine(day, time())
    return day if day.tzinfo else day.replace(tzinfo=ZoneInfo(timezone))


def pull(
    url: str,
    since: date | datetime,
    dest: Path,
    *,
    timezone: str,
    until: date | datetime | None = None,
    page_size: int = 500,
    max_pages: int = 10_000,
    fetch: pulling.Fetch | None = None,
) -> list[Path]:
    """Download every request created in [since, until) into DEST; returns the saved files.

    One request per page per window of at most 90 days; a window ends at an empty page, a page
    equal to the previous one, or a page of requests all seen before in the window; a server
    still paging after MAX_PAGES is an InputError (nothing is dropped silently). FETCH gets a
    URL's body (default: pulling.http_fetcher()), at most pulling.MAX_RESPONSE_BYTES each.
    """
    endpoint = requests_url(url)
    suffix = ".xml" if urllib.parse.urlsplit(endpoint).path.endswith(".xml") else ".json"
    start = local_moment(since, timezone)
    end = local_moment(until, timezone) if until else datetime.now(UTC)
    if start >= end:
        raise InputError(f"--since {start:%Y-%m-%d} is not before {end:%Y-%m-%d}")
    fetch = fetch or pulling.http_fetcher(server="the Open311 server")
    dest.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for number, (lo, hi) in enumerate(windows(start, end), start=1):
        def url_for(page: int, offset: int, lo: datetime = lo, hi: datetime = hi) -> str:
            return pulling.with_query(endpoint, {
                "start_date": _utc_text(lo), "end_date": _utc_text(hi),
                "page": page, "page_size": page_size,
            })

        def still_paging(lo: datetime = lo, hi: datetime = hi) -> str:
            return (f"{endpoint}: the server was still paging after {max_pages:,} pages for "
                    f"{lo:%Y-%m-%d} – {hi:%Y-%m-%d}; the {len(saved):,} pages fetched are in "
                    f"{dest}, but this window may be incomplete (try a larger --page-size or "
                    "fewer days)")

        for page_number, page in enumerate(pulling.pages(
                fetch, url_for, lambda data, url: (parse_response(data, url), False),
                max_pages=max_pages, record_id=lambda r: r.get("service_request_id") or None,
                still_paging=still_paging), start=1):
            path = dest / f"window{number:03d}-{lo:%Y%m%d}-page{page_number:04d}{suffix}"
            path.write_bytes(page.data)
            saved.append(path)
    return saved
