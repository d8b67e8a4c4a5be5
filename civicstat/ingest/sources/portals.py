"""Pulling requests from the open-data portals cities publish 311 on: Socrata, ArcGIS, CKAN.

`civicstat pull DIR --socrata URL` (or `--arcgis`, `--ckan`) with `--mapping FILE` or a `--source`
preset. Each portal's API is a dialect of the one paging engine (sources.pulling: retries with
backoff on 429 / 5xx honouring Retry-After, 64 MB a response, max_pages):

- Socrata SODA (`.../resource/abcd-1234.json`): `$limit` / `$offset` pages ordered by `:id`, an
  incremental pull asks `$where <updated field> >= '<newest loaded>'` (ANDed with a `$where` the
  URL already has); the app token from SOCRATA_APP_TOKEN goes in the X-App-Token header.
- ArcGIS REST (`.../FeatureServer/0`, or MapServer): the layer's description first (its object
  id field, date fields, whether it pages), then `query` with `where`, `outFields=*`,
  `outSR=4326`, `f=json`, `resultOffset` / `resultRecordCount` ordered by the object id, until
  `exceededTransferLimit` is no longer set. A record is the feature's attributes, its date fields
  (epoch milliseconds, UTC) written as ISO 8601 UTC times, plus `lon` / `lat` from a point
  geometry (a mapping that names no coordinates reads them).
- CKAN DataStore (`.../api/3/action/datastore_search?resource_id=...`): `offset` / `limit`
  against `total`, records in result.records, ordered by `_id`. DataStore filters are equality
  only, so an incremental pull sorts by the updated field, newest first, and stops at the first
  record older than the newest loaded.

Incremental by default: the pull asks only for records updated since the newest `updated_at`
already loaded from that dataset (rows whose `source` names its page files: "NAME:<portal>-<id>-
p00001.json"; a time flagged date_in_future never counts). The store's own clock is the city's:
the time is converted back to the dataset's (the mapping's [dates] timezone, or the city's;
ArcGIS: UTC). `--since` is a floor, `--full` ignores what is loaded.

The records are saved as JSON files of up to FILE_RECORDS records under the city's
pulls/<portal>-<id>/ (the previous pull's files are removed first), then the files are ingested in
one transaction like any export: a pull killed at any point leaves the store as it was, and the
next one asks again from the same time.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from civicstat.core.city import City
from civicstat.core.errors import excerpt, store_busy
from civicstat.ingest.sources import pulling
from civicstat.ingest.sources.base import Adapter, InputError
from civicstat.ingest.sources.mapping import MappingSpec, map_records
from civicstat.ingest.sources.reading import check_json_depth, header_key

KINDS = ("socrata", "arcgis", "ckan")
PAGE_SIZES = {"socrata": 5_000, "arcgis": 2_000, "ckan": 5_000}
MAX_PAGES = 100_000
FILE_RECORDS = 20_000  # records a saved file holds at most (pages are joined up to this)
APP_TOKEN_ENV = "SOCRATA_APP_TOKEN"
TIME_TYPES = ("calendar_date", "date", "floating_timestamp", "fixed_timestamp")  # Socrata's
# --source presets on the portals: (portal, created field, updated field) in the API's names
PRESETS: dict[str, tuple[str, str, str | None]] = {
    "nyc": ("socrata", "created_date", "resolution_action_updated_date"),  # erm2-nwe9
    "chicago": ("socrata", "created_date", "last_modified_date"),  # v6vf-nfxy
    "sf": ("socrata", "requested_datetime", "updated_datetime"),  # vw6y-z8j6
    "la": ("socrata", "createddate", "updateddate"),  # MyLA311 on data.lacity.org
    "boston": ("ckan", "open_dt", None),  # Analyze Boston: no updated time, every pull is whole
}
Progress = Callable[[int, int], None]  # (records fetched, records expected)


def _json(data: bytes, url: str) -> object:
    """A response (or saved page) as JSON: deeper than reading.MAX_JSON_DEPTH is refused."""
    check_json_depth(data, url)
    try:
        return json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{url}: not readable JSON ({exc})") from None


def _key(text: str) -> str:
    """A dataset id as it goes in file names and the rows' source: [a-z0-9-] only."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "dataset"


def _field_named(name: str, fields: list[str], what: str, url: str) -> str:
    """The API's own spelling of field NAME (exact, else the same once reduced: "Updated Date"
    is updated_date); InputError listing the fields otherwise."""
    if name in fields:
        return name
    found = [f for f in fields if header_key(f) == header_key(name)]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(excerpt(f, 40) for f in fields[:30])
    raise InputError(f"{url}: the dataset has no field {name!r} ({what}); its fields: {listed}")


# --- the dialects ---------------------------------------------------------------------------


def _address(url: str, pattern: str, what: str) -> tuple[urllib.parse.SplitResult, re.Match]:
    """URL's parts and the match of PATTERN in its path; InputError saying it is not WHAT."""
    parts = pulling.http_url(url)
    found = re.search(pattern, parts.path)
    if not found:
        raise InputError(f"{url}: not {what}")
    return parts, found


@dataclass
class Query:
    """What one pull asks for: the filter field and the time (on the dataset's clock) it asks
    from, or None for everything; the page size."""

    field: str | None
    since: datetime | None
    page_size: int


class Socrata:
    """SODA 2.x: `.../resource/abcd-1234.json`."""

    kind = "socrata"
    name = "the Socrata server"

    def __init__(self, url: str, query: Query):
        parts, found = _address(url, r"/resource/([A-Za-z0-9]{4}-[A-Za-z0-9]{4})(\.json)?/?$",
                                "a Socrata dataset's API address (https://DOMAIN/resource/"
                                "abcd-1234.json)")
        path = parts.path[:found.start()] + f"/resource/{found.group(1)}.json"
        self.endpoint = urllib.parse.urlunsplit(parts._replace(path=path))
        self.key = _key(found.group(1))
        self.query = query
        given = dict(urllib.parse.parse_qsl(parts.query)).get("$where")
        clauses = [f"({given})"] if given else []
        if query.since is not None:
            field = query.field or ""  # a column's name ("Created Date") as the API spells it
            field = field if re.fullmatch(r"[\w:@]+", field) else re.sub(
                r"\W+", "_", field.strip()).strip("_").lower()
            if not re.fullmatch(r"[A-Za-z_:@][\w:@]*", field):
                raise InputError(f"{query.field!r} is not a Socrata field name (as the API "
                                 "spells it, e.g. created_date: --updated-field)")
            moment = query.since  # a floating timestamp: the digits on the dataset's clock
            clauses.append(f"{field} >= '{moment:%Y-%m-%dT%H:%M:%S}."
                           f"{moment.microsecond // 1000:03d}'")
        self.where = " AND ".join(clauses) or None
        self.field = field if query.since is not None else None
        self.views = urllib.parse.urlunsplit(parts._replace(
            path=parts.path[:found.start()] + f"/api/views/{found.group(1)}.json", query=""))

    def prepare(self, fetch: pulling.Fetch) -> None:
        """A $where on a text column compares text ("01/05/2024" > "2024-..."): refused where the
        dataset's description says the field is not a time (a portal without one: not checked)."""
        if self.field is None:
            return
        try:
            columns = _json(fetch(self.views), self.views).get("columns")
        except (InputError, AttributeError):
            return
        kinds = {c.get("fieldName"): c.get("dataTypeName") for c in columns or []
                 if isinstance(c, dict)}
        kind = kinds.get(self.field)
        if kind is not None and kind not in TIME_TYPES:
            raise InputError(f"{self.endpoint}: {self.field} is a {kind} column, not a time: "
                             "asking for records since a time would compare text; name another "
                             "field (--updated-field) or pull everything (--full)")

    def _params(self) -> dict:
        return {"$where": self.where} if self.where else {}

    def count(self, fetch: pulling.Fetch) -> int | None:
        url = pulling.with_query(self.endpoint, {"$select": "count(*)", **self._params()})
        rows = _json(fetch(url), url)
        try:
            return int(next(iter(rows[0].values())))
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, StopIteration):
            return None

    def url_for(self, number: int, offset: int) -> str:
        return pulling.with_query(self.endpoint, {
            **self._params(), "$order": ":id", "$limit": self.query.page_size, "$offset": offset})

    def parse(self, data: bytes, url: str) -> tuple[list, bool]:
        document = _json(data, url)
        if isinstance(document, dict):  # {"error": true, "message": ...} or {"code", "message"}
            raise InputError(f"{url}: the Socrata server answered with an error: "
                             f"{excerpt(document.get('message') or document, 200)}")
        if not isinstance(document, list):
            raise InputError(f"{url}: not a SODA answer (a JSON list of records)")
        return document, False


class ArcGIS:
    """An ArcGIS REST feature layer: `.../FeatureServer/0` (or MapServer)."""

    kind = "arcgis"
    name = "the ArcGIS server"

    def __init__(self, url: str, query: Query):
        parts, found = _address(url, r"/([^/]+)/(FeatureServer|MapServer)/(\d+)(/query)?/?$",
                                "an ArcGIS layer's address (https://HOST/.../FeatureServer/0)")
        path = parts.path[:found.start()] + f"/{found.group(1)}/{found.group(2)}/{found.group(3)}"
        self.layer = urllib.parse.urlunsplit(parts._replace(path=path, query=""))
        self.key = _key(f"{found.group(1)}-{found.group(3)}")
        self.query = query
        self.object_id: str | None = None
        self.dates: set[str] = set()
        self.where = "1=1"

    def prepare(self, fetch: pulling.Fetch) -> None:
        url = pulling.with_query(self.layer, {"f": "json"})
        layer = self._document(fetch(url), url)
        fields = [f for f in layer.get("fields") or [] if isinstance(f, dict)]
        self.dates = {f.get("name") for f in fields if f.get("type") == "esriFieldTypeDate"}
        self.object_id = layer.get("objectIdField") or next(
            (f.get("name") for f in fields if f.get("type") == "esriFieldTypeOID"), None)
        paging = (layer.get("advancedQueryCapabilities") or {}).get("supportsPagination")
        if paging is False:
            raise InputError(f"{self.layer}: this layer does not page its answers "
                             "(supportsPagination is false): a pull would stop at its first "
                             f"{layer.get('maxRecordCount', 1000)} records")
        if self.query.since is not None:
            name = _field_named(self.query.field or "", [str(f.get("name")) for f in fields],
                                "the updated time", self.layer)
            if name not in self.dates:
                raise InputError(f"{self.layer}: {name} is not a date field; name one with "
                                 "--updated-field, or pull everything (--full)")
            moment = self.query.since.astimezone(UTC)
            self.where = f"{name} >= TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S}'"

    def _document(self, data: bytes, url: str) -> dict:
        document = _json(data, url)
        if not isinstance(document, dict):
            raise InputError(f"{url}: not an ArcGIS answer (a JSON object)")
        if isinstance(document.get("error"), dict):
            error = document["error"]
            raise InputError(f"{url}: the ArcGIS server answered with an error: "
                             f"{error.get('code', '')} {excerpt(error.get('message'), 200)}")
        return document

    def count(self, fetch: pulling.Fetch) -> int | None:
        url = pulling.with_query(f"{self.layer}/query", {
            "where": self.where, "returnCountOnly": "true", "f": "json"})
        count = self._document(fetch(url), url).get("count")
        return count if isinstance(count, int) else None

    def url_for(self, number: int, offset: int) -> str:
        params = {"where": self.where, "outFields": "*", "outSR": 4326, "f": "json",
                  "returnGeometry": "true", "resultOffset": offset,
                  "resultRecordCount": self.query.page_size}
        if self.object_id:
            params["orderByFields"] = self.object_id
        return pulling.with_query(f"{self.layer}/query", params)

    def parse(self, data: bytes, url: str) -> tuple[list, bool]:
        document = self._document(data, url)
        features = document.get("features")
        if not isinstance(features, list):
            raise InputError(f"{url}: not an ArcGIS query answer (no features)")
        dates = self.dates | {f.get("name") for f in document.get("fields") or []
                              if isinstance(f, dict) and f.get("type") == "esriFieldTypeDate"}
        records = [self._record(f, dates) if isinstance(f, dict) else f for f in features]
        return records, not document.get("exceededTransferLimit", False)

    @staticmethod
    def _record(feature: dict, dates: set) -> dict:
        record = dict(feature.get("attributes") or {})
        for name in dates & record.keys():
            record[name] = epoch_ms_text(record[name])
        geometry = feature.get("geometry")
        if isinstance(geometry, dict) and "x" in geometry and "y" in geometry:
            record["lon"], record["lat"] = geometry["x"], geometry["y"]
        return record


def epoch_ms_text(value: object) -> object:
    """An ArcGIS date (milliseconds since 1970, UTC) as ISO 8601 UTC text; other values as given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)
    except (OverflowError, ValueError):
        return value
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class CKAN:
    """CKAN's DataStore: `.../api/3/action/datastore_search?resource_id=...`."""

    kind = "ckan"
    name = "the CKAN server"

    def __init__(self, url: str, query: Query):
        what = "a CKAN DataStore address (https://HOST/api/3/action/datastore_search?resource_id=...)"
        parts, _ = _address(url, r"/datastore_search/?$", what)
        given = dict(urllib.parse.parse_qsl(parts.query))
        resource = given.get("resource_id") or given.get("id")
        if not resource:
            raise InputError(f"{url}: not {what}")
        self.endpoint = url
        self.key = _key(resource)
        self.query = query
        self.sort = '"_id"'
        self.field: str | None = None
        self.total: int | None = None
        self.received = 0

    def prepare(self, fetch: pulling.Fetch) -> None:
        url = pulling.with_query(self.endpoint, {"limit": 0})
        result = self._result(fetch(url), url)
        fields = [str(f.get("id")) for f in result.get("fields") or [] if isinstance(f, dict)]
        self.total = self._total(result)
        if self.query.since is not None:
            self.field = _field_named(self.query.field or "", fields, "the updated time", url)
            self.sort = f'"{self.field}" desc, "_id"'

    def _result(self, data: bytes, url: str) -> dict:
        document = _json(data, url)
        if not isinstance(document, dict) or "success" not in document:
            raise InputError(f"{url}: not a CKAN API answer")
        if not document["success"] or not isinstance(document.get("result"), dict):
            error = document.get("error")
            said = error.get("message") or error if isinstance(error, dict) else error
            raise InputError(f"{url}: the CKAN server answered with an error: "
                             f"{excerpt(said, 200)}")
        return document["result"]

    @staticmethod
    def _total(result: dict) -> int | None:
        total = result.get("total")
        exact = isinstance(total, int) and not result.get("total_was_estimated")
        return total if exact else None

    def count(self, fetch: pulling.Fetch) -> int | None:
        return None if self.query.since is not None else self.total

    def url_for(self, number: int, offset: int) -> str:
        return pulling.with_query(self.endpoint, {
            "offset": offset, "limit": self.query.page_size, "sort": self.sort})

    def parse(self, data: bytes, url: str) -> tuple[list, bool]:
        result = self._result(data, url)
        records = result.get("records")
        if not isinstance(records, list):
            raise InputError(f"{url}: not a datastore_search answer (no result.records)")
        self.received += len(records)
        total = self._total(result)
        last = total is not None and self.received >= total
        if self.field is not None and self.query.since is not None:  # newest first: stop at older
            older = [i for i, r in enumerate(records) if _before(r, self.field, self.query.since)]
            if older:
                return records[:older[0]], True
        return records, last


def _before(record: object, field: str, since: datetime) -> bool:
    """Whether RECORD's FIELD is a time before SINCE (unreadable or missing: no)."""
    value = record.get(field) if isinstance(record, dict) else None
    try:
        moment = datetime.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return False
    if moment is None:
        return False
    if moment.tzinfo is not None:
        moment = moment.astimezone(since.tzinfo).replace(tzinfo=None)
    return moment < since.replace(tzinfo=None)


DIALECTS = {"socrata": Socrata, "arcgis": ArcGIS, "ckan": CKAN}


# --- reading the pages ----------------------------------------------------------------------


@dataclass
class PageAdapter:
    """Reads a pull's saved pages with a mapping (sources.base contract). One per pull: with
    `[id] generate`, a record's occurrence number counts across all the pull's pages."""

    spec: MappingSpec
    seen: Counter = dataclasses.field(default_factory=Counter)

    @property
    def name(self) -> str:
        return self.spec.name

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        path = Path(path)
        records = _json(path.read_bytes(), path.name)
        if not isinstance(records, list):
            raise InputError(f"{path}: not a pull's page (a JSON list of records)")
        yield map_records(_api_names(self.spec, records), records, timezone,
                          f"{self.spec.name}:{path.name}", seen=self.seen)


def _api_names(spec: MappingSpec, records: list) -> MappingSpec:
    """SPEC with each column it names that no record has as a key replaced by the record key that
    is the same once reduced (reading.header_key): a mapping written for a portal's CSV download
    ("Unique Key") reads its API's records ("unique_key"). Dotted paths are left as they are."""
    sample = [r for r in records[:1000] if isinstance(r, dict)]
    keys: dict[str, str] = {}
    for record in sample:
        for key in record:
            keys.setdefault(header_key(key), key)

    def name(column: str) -> str:
        if "." in column or any(column in r for r in sample):
            return column
        return keys.get(header_key(column), column)

    columns = {f: tuple(name(c) for c in names) for f, names in spec.columns.items()}
    id_columns = tuple(name(c) for c in spec.id_columns)
    if columns == spec.columns and id_columns == spec.id_columns:
        return spec
    return dataclasses.replace(spec, columns=columns, id_columns=id_columns)


def _for_pages(spec: MappingSpec, kind: str) -> MappingSpec:
    """SPEC as the pages are written: JSON records (its [file] section is for files), ISO 8601
    times read whatever [dates] formats says, and an ArcGIS point's lon / lat where the mapping
    names no coordinates."""
    changes: dict = {"format": "json", "records": None, "header": True}
    formats = spec.formats
    if formats and "ISO8601" not in formats:
        changes["formats"] = formats + ("ISO8601",)
    located = {"lat", "lon", "x", "y", "location"} & set(spec.columns)
    if kind == "arcgis" and not located:
        changes["columns"] = {**spec.columns, "lat": ("lat",), "lon": ("lon",)}
    return dataclasses.replace(spec, **changes)


# --- the pull -------------------------------------------------------------------------------


@dataclass
class Pulled:
    """What a pull fetched: the saved pages, the adapter that reads them, and what it asked."""

    files: list[Path]
    adapter: Adapter
    records: int
    pages: int
    since: datetime | None  # on the city's clock; None: everything
    incremental: bool  # since came from what was loaded


def source_pattern(kind: str, key: str) -> str:
    """The regular expression the `source` of rows loaded from this dataset's pages matches
    ("NAME:socrata-abcd-1234-p00001.json"; the key is [a-z0-9-] only)."""
    return f":{kind}-{key}-p[0-9]+\\.json$"


def newest_loaded(city: City, kind: str, key: str) -> datetime | None:
    """The newest updated_at loaded from this dataset (a time flagged date_in_future aside)."""
    if not city.store_path.is_file():
        return None
    try:
        con = duckdb.connect(str(city.store_path), read_only=True,
                             config={"autoinstall_known_extensions": False})
    except duckdb.IOException as exc:
        raise store_busy(city.store_path, exc) from exc
    try:
        return con.execute(
            "select max(updated_at) from requests where regexp_matches(source, $pattern) "
            "and (flags is null or not list_contains(flags, 'date_in_future'))",
            {"pattern": source_pattern(kind, key)}).fetchone()[0]
    except duckdb.CatalogException:
        return None  # a store without requests yet
    finally:
        con.close()


def _on_clock(moment: datetime, city_tz: str, clock: str) -> datetime:
    """A naive time on the city's clock as an aware time on CLOCK."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(city_tz))
    return aware.astimezone(ZoneInfo(clock))


def _fields(kind: str, spec: MappingSpec | None,
            preset: str | None) -> tuple[str | None, str | None, str | None]:
    """(created field, updated field, clock) the API is asked about."""
    if preset is not None:
        portal, created, updated = PRESETS[preset]
        if portal != kind:
            raise InputError(f"--source {preset} is the {portal} preset, not {kind}'s; "
                             "use --mapping")
        return created, updated, None
    columns = spec.columns
    created = (columns.get("created_at") or (None,))[0]
    updated = (columns.get("updated_at") or (None,))[0]
    return created, updated, spec.timezone


def _floor(since: date | datetime | None, timezone: str) -> datetime | None:
    """--since on the city's clock (naive): a date is its midnight."""
    if since is None:
        return None
    if not isinstance(since, datetime):
        return datetime.combine(since, time())
    return since.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) if since.tzinfo else since


@contextmanager
def _locked(path: Path, url: str) -> Iterator[None]:
    """One pull of a dataset at a time in a city (the lock goes with the process, kill -9 too)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another pull of {url} into this city is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _count(dialect, fetch: pulling.Fetch) -> int | None:
    """How many records the API says the pull will get, for the progress bar; None when it
    will not say (a count it refuses is no reason to stop the pull)."""
    try:
        return dialect.count(fetch)
    except InputError:
        return None


def _still_paging(url: str, max_pages: int, dest: Path) -> str:
    return (f"{url}: the server was still paging after {max_pages:,} pages; the pages fetched "
            f"are in {dest}, but nothing was loaded (try a larger --page-size)")


class PageFiles:
    """The pull's records written as they come into files of about FILE_RECORDS records (each a
    JSON list, one record a line, as SODA writes them): fewer, larger files than pages, since
    ingest merges file by file. A file is complete once the block ends."""

    def __init__(self, dest: Path, prefix: str):
        self.dest, self.prefix = dest, prefix
        self.files: list[Path] = []
        self.records = self.pages = 0
        self._handle = None
        self._in_file = 0

    def add(self, records: list) -> None:
        self.pages += 1
        for record in records:
            if self._handle is None:
                path = self.dest / f"{self.prefix}-p{len(self.files) + 1:05d}.json"
                self._handle = path.open("w", encoding="utf-8")
                self.files.append(path)
                self._handle.write("[")
            elif self._in_file:
                self._handle.write("\n,")
            self._handle.write(json.dumps(record, ensure_ascii=False))
            self._in_file += 1
            self.records += 1
            if self._in_file >= FILE_RECORDS:
                self._close()

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.write("\n]\n")
            self._handle.close()
            self._handle, self._in_file = None, 0

    def __enter__(self) -> PageFiles:
        return self

    def __exit__(self, *exc) -> None:
        self._close()


def get_preset(name: str) -> Adapter:
    from civicstat.ingest.sources.registry import get_adapter

    return get_adapter(name)


def pull(
    city: City,
    kind: str,
    url: str,
    *,
    spec: MappingSpec | None = None,
    preset: str | None = None,
    updated_field: str | None = None,
    since: date | datetime | None = None,
    full: bool = False,
    page_size: int | None = None,
    max_pages: int = MAX_PAGES,
    fetch: pulling.Fetch | None = None,
    progress: Progress | None = None,
) -> Pulled:
    """Download the dataset's new records into the city's pulls/ folder (see the module
    docstring); returns the pages and the adapter to ingest them with.

    SPEC is a mapping (sources.mapping.MappingSpec) or PRESET a --source format name. SINCE is a
    floor (a date is midnight on the city's clock); FULL ignores what is already loaded. FETCH
    gets a URL's body (default: pulling.http_fetcher with the portal's headers); PROGRESS is
    called with (records fetched, records expected) when the API says how many to expect.
    """
    if kind not in DIALECTS:
        raise InputError(f"unknown portal {kind!r}; portals: {', '.join(KINDS)}")
    if (spec is None) == (preset is None):
        raise InputError(f"--{kind} needs --mapping FILE or --source PRESET")
    if preset is not None and preset not in PRESETS:
        raise InputError(f"--source {preset!r} has no portal preset; presets: "
                         f"{', '.join(PRESETS)} (or --mapping)")
    created, updated, clock = _fields(kind, spec, preset)
    updated = updated_field or updated
    clock = ZoneInfo(clock or city.timezone).key
    probe = DIALECTS[kind](url, Query(None, None, 1))  # the dataset's key, before asking anything
    floor = _floor(since, city.timezone)
    loaded = None if full else newest_loaded(city, kind, probe.key)
    if loaded is not None and updated is not None and (floor is None or loaded > floor):
        start, field, incremental = loaded, updated, True
    elif floor is not None:
        start, field, incremental = floor, updated or created, False
    else:
        start, field, incremental = None, None, False
    if start is not None and field is None:
        raise InputError("--since needs the dataset's created or updated field (--updated-field)")
    query = Query(field, None if start is None else _on_clock(start, city.timezone, clock),
                  page_size or PAGE_SIZES[kind])
    dialect = DIALECTS[kind](url, query)
    headers = {}
    if kind == "socrata" and os.environ.get(APP_TOKEN_ENV):
        headers["X-App-Token"] = os.environ[APP_TOKEN_ENV]
    fetch = fetch or pulling.http_fetcher(headers=headers, server=dialect.name)
    prefix = f"{kind}-{dialect.key}"
    dest = city.root / "pulls" / prefix
    dest.mkdir(parents=True, exist_ok=True)
    with _locked(dest / ".lock", url):
        for old in dest.glob(f"{prefix}-p*.json"):
            old.unlink()
        dialect.prepare(fetch)
        total = _count(dialect, fetch) if progress else None
        with PageFiles(dest, prefix) as saved:
            for page in pulling.pages(fetch, dialect.url_for, dialect.parse, max_pages=max_pages,
                                      repeat_is_error=True, still_paging=lambda: _still_paging(
                                          url, max_pages, dest)):
                saved.add(page.records)
                if progress and total:
                    progress(min(saved.records, total - 1), total)
        if progress and total:
            progress(max(saved.records, total), max(saved.records, total))
    adapter = get_preset(preset) if preset else PageAdapter(_for_pages(spec, kind))
    return Pulled(saved.files, adapter, saved.records, saved.pages, start, incremental)
