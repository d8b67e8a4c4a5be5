"""`--mapping FILE.toml`: any CSV or JSON export (or portal records), described by a mapping file.

The mapping says which column (or JSON path) is which canonical field, how dates are written and
on which clock, which coordinate system x/y are in, how ids are made when the export has none,
and how the export's status / closure / channel values translate (docs/mapping-example.toml is a
complete, commented example of every key). Reading a file (encodings, line endings, quoted line
breaks) is sources.reading's; parsing values is sources.parsing's: this module applies the mapping.

Sections and keys (anything else is an error that names it):
- `name`: the source's name, recorded in each row's `source` ("NAME:FILE").
- `[file]`: `format` ("csv", the default, or "json"), `records` (json: the dotted path of the list
  of records in the document, e.g. "issues"; "" = the document is the list; omitted: the document
  is the list, or a GeoJSON FeatureCollection), `header` (csv; default true; false = columns are
  given by position, 1 = the first) and `delimiter` (csv; comma, tab, semicolon or pipe; detected
  by the reader, any other is refused). A CSV-format mapping reads a JSON file as the reader
  detects it (SODA arrays, NDJSON), with top-level keys as columns.
- `[id]` (only when the export has no id column): `generate = "content"` (an id from the record's
  content: the text of its mapped columns other than status, closure, resolution, updated_at,
  closed_at and due_at, plus its occurrence number in the file, so identical records stay
  distinct, a replay is unchanged, and a request whose state changes keeps its id) or
  `columns = ["Case", "Line"]` (a composite key: the values joined by "|").
- `[coordinates]`: `crs`, the system of the x/y (or lat/lon) columns ("ESRI:102696",
  "EPSG:2263"...; default degrees, EPSG:4326). Coordinates that are not degrees with no crs
  declared stop the load (InputError naming `[coordinates] crs`).
- `[dates]`: `formats` (strptime formats tried in order; "ISO8601" for ISO with or without an
  offset; "epoch" (or "%s") for Unix seconds or milliseconds, which are UTC; omitted: the common 311
  formats are detected), `timezone` (the clock the times are on; omitted: the city's). Times with
  an explicit offset, and epoch times, are converted to the city's clock.
- `[columns]`: canonical field = column name (or position, or for JSON a dotted path such as
  "request_type.title"). created_at is required, and request_id unless `[id]` makes it. A time may
  name several columns (["CREATION DATE", "CREATION TIME"]), joined by one space; other text fields
  may name several columns, joined with ", ". Extra fields: `x` and `y` (projected coordinates,
  converted to lat/lon with `[coordinates] crs`), `location` (one column holding "(lat, lon)",
  "POINT (lon lat)"...), `zip` (a ZIP code, made 5 digits and appended to the address: "2119.0" ->
  "02119"), `source_district` ("Ward 08" is read as "8"; ingest keeps it only when it names an
  area of the city's district layer) and `source_neighborhood` (used for rows without usable
  coordinates). With neither `status` nor `closed_at`, the rows are stored with no status: they
  count for volume, never as open backlog.
- `[status]`, `[closure]`, `[channel]`: canonical value = [the export's values], compared
  case-insensitively. Values not listed fall back to the spellings sources.parsing knows; a status
  still unknown is kept and flagged by ingest, a channel still unknown becomes "other". The
  closure values are looked up in the `closure` column, else in the `status` column.

Records fetched from a portal (a list of JSON objects) go through `map_records(spec, records,
timezone, source)`, which applies the same keys and returns one canonical frame.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS
from pyproj.exceptions import CRSError

from civicstat.core.errors import excerpt
from civicstat.core.schema import CHANNELS, CLOSURES, COLUMN_NAMES, STATUSES
from civicstat.ingest.prefetch import prefetched
from civicstat.ingest.sources import parsing
from civicstat.ingest.sources.base import (
    NO_STATUS,
    SOURCE_DISTRICT,
    SOURCE_NEIGHBORHOOD,
    InputError,
)
from civicstat.ingest.sources.reading import (
    DELIMITERS,
    JSON_BATCH_ROWS,
    Batch,
    canonical_frame,
    check_json_depth,
    header_key,
    read_batches,
    sniff,
)

TIMESTAMP_FIELDS = ("created_at", "updated_at", "closed_at", "due_at")
NUMBER_FIELDS = ("lat", "lon", "x", "y")
EXTRA_FIELDS = ("x", "y", "location", "zip", SOURCE_DISTRICT, SOURCE_NEIGHBORHOOD)
ALIASES = {"district": SOURCE_DISTRICT, "neighborhood": SOURCE_NEIGHBORHOOD}
FIELDS = tuple(c for c in COLUMN_NAMES if c not in ("source", "district", "neighborhood")) \
    + EXTRA_FIELDS
ISO = "ISO8601"
EPOCH = "epoch"
EPOCH_ALIASES = (EPOCH, "%s")
FORMATS = ("csv", "json")
# what a record's content id is made of: its mapped columns but these (which change as the
# request is worked on), so a request keeps its id when its state changes
STATE_FIELDS = ("status", "closure", "resolution", "updated_at", "closed_at", "due_at")
# The mapping file's sections and the keys each may hold ([columns], [status], [closure] and
# [channel] hold field or value names, checked on their own).
SECTIONS: dict[str, tuple[str, ...] | None] = {
    "file": ("format", "records", "header", "delimiter"),
    "id": ("generate", "columns"),
    "coordinates": ("crs",),
    "dates": ("formats", "format", "timezone"),
    "columns": None,
    "status": None,
    "closure": None,
    "channel": None,
}
TOP_LEVEL = ("name",)
# Degrees: more than this share of a batch's coordinates outside ±90 / ±180 means they are not
# degrees at all (a few out-of-range values are bad rows, flagged by ingest).
NOT_DEGREES_SHARE = 0.5


class _Positional(Mapping):
    """Column names for a header-less file of any width (up to MAX_WIDTH): "1", "2", ..."""

    MAX_WIDTH = 1000

    def __getitem__(self, width: int) -> tuple[str, ...]:
        if not 1 <= width <= self.MAX_WIDTH:
            raise KeyError(width)
        return tuple(str(i) for i in range(1, width + 1))

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, self.MAX_WIDTH + 1))

    def __len__(self) -> int:
        return self.MAX_WIDTH


@dataclass(frozen=True)
class MappingSpec:
    """A parsed mapping file."""

    name: str
    header: bool = True
    format: str | None = None  # "csv" / "json"; None: not said (csv, JSON files as detected)
    records: str | None = None  # json: dotted path of the list of records ("" = the document)
    formats: tuple[str, ...] = ()
    timezone: str | None = None
    crs: str | None = None  # of x/y (or lat/lon); None: degrees
    id_generate: bool = False  # [id] generate = "content"
    id_columns: tuple[str, ...] = ()  # [id] columns = [...]
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> column names
    status: dict[str, str] = field(default_factory=dict)  # lower-case value -> open/closed
    closure: dict[str, str] = field(default_factory=dict)
    channel: dict[str, str] = field(default_factory=dict)

    @property
    def reads_documents(self) -> bool:
        """Whether files are read as JSON documents with dotted paths (else by sources.reading)."""
        return self.format == "json" or self.records is not None

    def key(self, column: str) -> str:
        """The reader's key for a column name (or position, or JSON path)."""
        if self.reads_documents:
            return column
        return header_key(column) if self.header else column

    def source_columns(self) -> tuple[str, ...]:
        """Every column (or path) the mapping reads, each once, in order."""
        names = [c for names in self.columns.values() for c in names] + list(self.id_columns)
        return tuple(dict.fromkeys(names))


def _values_table(raw: dict, allowed: Sequence[str], where: str) -> dict[str, str]:
    """{canonical: [values]} from the TOML -> {lower-case value: canonical}."""
    table: dict[str, str] = {}
    for canonical, values in raw.items():
        if canonical not in allowed:
            raise InputError(f"{where}: {canonical!r} is not one of {', '.join(allowed)}")
        for value in [values] if isinstance(values, str) else values:
            table[str(value).strip().lower()] = canonical
    return table


def _check_sections(raw: dict, where: str) -> None:
    """InputError naming the first unknown section or key."""
    for name, value in raw.items():
        if name in TOP_LEVEL:
            continue
        if name not in SECTIONS:
            known = ", ".join([*TOP_LEVEL, *(f"[{s}]" for s in SECTIONS)])
            raise InputError(f"{where}: unknown section or key {name!r}; a mapping has {known}")
        if not isinstance(value, dict):
            raise InputError(f"{where}: {name!r} must be a section ([{name}])")
        keys = SECTIONS[name]
        unknown = [k for k in value if keys is not None and k not in keys]
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r} in [{name}]; [{name}] takes "
                             f"{', '.join(keys or ())}")


def _columns(raw: dict, header: bool, where: str) -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        target = ALIASES.get(name, name)
        if target not in FIELDS:
            raise InputError(f"{where}: unknown field {name!r} in [columns]; fields: "
                             f"{', '.join(FIELDS)}")
        names = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        if not names:
            raise InputError(f"{where}: {name} names no column")
        if not header and not all(n.isdigit() and int(n) >= 1 for n in names):
            raise InputError(f"{where}: {name} must be a column position (1 = first) "
                             "when header = false")
        if len(names) > 1 and target in NUMBER_FIELDS + ("location",):
            raise InputError(f"{where}: {name} takes one column")
        columns[target] = names
    return columns


def _id_options(raw: dict, header: bool, where: str) -> tuple[bool, tuple[str, ...]]:
    generate = raw.get("generate")
    columns = raw.get("columns")
    if generate is not None and generate != "content":
        raise InputError(f"{where}: [id] generate must be \"content\" (got {generate!r})")
    if generate is not None and columns is not None:
        raise InputError(f"{where}: [id] takes generate or columns, not both")
    if columns is not None:
        columns = [columns] if isinstance(columns, (str, int)) else columns
        if not columns:
            raise InputError(f"{where}: [id] columns names no column")
        if not header and not all(str(c).isdigit() for c in columns):
            raise InputError(f"{where}: [id] columns must be column positions when header = false")
    return generate is not None, tuple(str(c) for c in columns or ())


def _crs(value: object, where: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        crs = CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
    except CRSError as exc:
        raise InputError(f"{where}: [coordinates] crs {value!r} is not a coordinate system "
                         "pyproj knows (e.g. \"EPSG:2263\", \"ESRI:102696\")") from exc
    return None if crs == CRS.from_epsg(4326) else text


def load_mapping(path: Path | str) -> MappingSpec:
    """Read and check a mapping file; InputError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mapping file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not a readable TOML file ({exc})") from exc
    return parse_mapping(raw, path.stem, path.name)


def parse_mapping(raw: dict, default_name: str = "mapping", where: str = "mapping") -> MappingSpec:
    """A MappingSpec from a mapping's TOML content (a dict, e.g. built by a caller); InputError
    naming what is wrong."""
    _check_sections(raw, where)
    file_options = raw.get("file", {})
    header = bool(file_options.get("header", True))
    fmt = file_options.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"{where}: [file] format {fmt!r} is not \"csv\" or \"json\"")
    records = file_options.get("records")
    if records is not None and fmt == "csv":
        raise InputError(f"{where}: [file] records is for format = \"json\"")
    if records is not None:
        records = str(records)
    delimiter = file_options.get("delimiter", ",")
    if delimiter not in DELIMITERS:
        raise InputError(
            f"{where}: delimiter {delimiter!r} is not supported (comma, tab, semicolon or pipe)"
        )
    dates = raw.get("dates", {})
    formats = dates.get("formats", dates.get("format", ()))
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    formats = tuple(EPOCH if f in EPOCH_ALIASES else f for f in formats)
    timezone = dates.get("timezone")
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"{where}: unknown time zone {timezone!r}") from exc
    id_generate, id_columns = _id_options(raw.get("id", {}), header, where)
    columns = _columns(raw.get("columns", {}), header, where)
    required = ["created_at"] if id_generate or id_columns else ["request_id", "created_at"]
    missing = [f for f in required if f not in columns]
    if missing:
        raise InputError(f"{where}: [columns] must name {' and '.join(missing)}"
                         + (" (or [id] make the id)" if "request_id" in missing else ""))
    if "request_id" in columns and (id_generate or id_columns):
        raise InputError(f"{where}: [columns] request_id and [id] both say what the id is; "
                         "keep one")
    if ("x" in columns) != ("y" in columns):
        raise InputError(f"{where}: [columns] x and y go together")
    crs = _crs(raw.get("coordinates", {}).get("crs"), where)
    if "x" in columns and crs is None:
        raise InputError(f"{where}: x/y coordinates need their system: set [coordinates] crs "
                         "(e.g. crs = \"EPSG:2263\")")
    return MappingSpec(
        name=str(raw.get("name") or default_name),
        header=header,
        format=fmt,
        records=records,
        formats=formats,
        timezone=timezone,
        crs=crs,
        id_generate=id_generate,
        id_columns=id_columns,
        columns=columns,
        status=_values_table(raw.get("status", {}), STATUSES, f"{where} [status]"),
        closure=_values_table(raw.get("closure", {}), CLOSURES, f"{where} [closure]"),
        channel=_values_table(raw.get("channel", {}), CHANNELS, f"{where} [channel]"),
    )


# --- JSON documents and records -------------------------------------------------------------


def _json_text(value: object) -> str | None:
    """A JSON value as the text a column holds: objects and lists as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_MISSING = object()


def resolve(record: object, path: str) -> object:
    """The value at PATH in a JSON record: the key itself when the record has it ("a.b" as one
    key), else the dotted path ("request_type.title", "media.0.url"); None where there is none."""
    if not isinstance(record, dict):
        return None
    value = record.get(path, _MISSING)
    if value is not _MISSING:
        return value
    value = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _records_of(document: object, spec: MappingSpec, name: str) -> list:
    """The list of records in a JSON document, at `[file] records`."""
    path = spec.records
    if path:
        found = resolve(document, path)
        if not isinstance(found, list):
            keys = ", ".join(excerpt(k, 30) for k in list(document)[:8]) \
                if isinstance(document, dict) else "none (the document is a list)"
            raise InputError(f"{name}: no list of records at [file] records = {path!r}; the "
                             f"document's keys: {keys}")
        return found
    if isinstance(document, dict) and isinstance(document.get("features"), list):
        return [{**(f.get("properties") or {}), "geometry": f.get("geometry")}
                if isinstance(f, dict) else f for f in document["features"]]
    if not isinstance(document, list):
        keys = ", ".join(excerpt(k, 30) for k in list(document)[:8]) \
            if isinstance(document, dict) else type(document).__name__
        raise InputError(f"{name}: the JSON document is not a list of records; say where the "
                         f"list is with [file] records (the document's keys: {keys})")
    return document


def records_batch(spec: MappingSpec, records: Sequence, first_line: int = 1) -> Batch:
    """A reading.Batch of the columns (JSON paths) SPEC reads, one row per record, numbered from
    FIRST_LINE. An item that is not an object is an unreadable record."""
    names = spec.source_columns()
    columns = {
        name: pa.array([_json_text(resolve(r, name)) for r in records], pa.string())
        for name in names
    }
    n = len(records)
    table = pa.table(columns) if columns else pa.table({"_empty": pa.nulls(n, pa.string())})
    rejects = [None if isinstance(r, dict) else "unreadable record" for r in records]
    return Batch(
        table,
        np.arange(first_line, first_line + n, dtype=np.int64),
        reject=rejects if any(rejects) else None,
        raw_text=_RawJSON(records),
        names=names,
    )


class _RawJSON(Sequence):
    """Per record: its JSON text, made only when asked for (rarely: rejected rows)."""

    def __init__(self, records: Sequence):
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i):
        return json.dumps(self.records[i], ensure_ascii=False, default=str)


def _document_batches(path: Path, spec: MappingSpec) -> Iterator[Batch]:
    """Batches of a JSON file read as one document (or as JSON lines when it is not one)."""
    encoding = sniff(path)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if encoding is not None:
        data = data.decode(encoding, errors="replace").encode("utf-8")
    check_json_depth(data, path.name)
    text = data.decode("utf-8", errors="replace")
    try:
        document = json.loads(text) if text.strip() else []
    except (ValueError, RecursionError):
        document = None
    if document is None:  # newline-delimited JSON: one record per line
        lines = [line for line in text.splitlines() if line.strip().strip("[],")]
        document = []
        for line in lines:
            try:
                document.append(json.loads(line.strip().strip(",")))
            except ValueError:
                document.append(line)  # comes out as an unreadable record
        if not any(isinstance(r, dict) for r in document):
            raise InputError(f"{path.name}: not readable JSON")
        if spec.records:
            raise InputError(f"{path.name}: JSON lines hold records directly; remove [file] "
                             "records")
    else:
        document = _records_of(document, spec, path.name)
    for start in range(0, len(document), JSON_BATCH_ROWS):
        yield records_batch(spec, document[start:start + JSON_BATCH_ROWS], start + 1)


def _has_path(record: object, path: str) -> bool:
    if not isinstance(record, dict):
        return False
    if path in record:
        return True
    value: object = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


def _check_paths(spec: MappingSpec, records: Sequence) -> None:
    """InputError when no record has a path the id or created_at is read from (a misspelt path
    would reject every record). Other paths may be absent: portals leave out empty fields."""
    objects = [r for r in records if isinstance(r, dict)]
    if not objects:
        return
    wanted = [("created_at", c) for c in spec.columns["created_at"]]
    wanted += [("request_id", c) for c in spec.columns.get("request_id", ())]
    wanted += [("[id] columns", c) for c in spec.id_columns]
    missing = [(f, c) for f, c in wanted if not any(_has_path(r, c) for r in objects[:1000])]
    if missing:
        named = ", ".join(f"{c!r} ({f})" for f, c in missing)
        keys = ", ".join(excerpt(k, 30) for k in list(objects[0])[:15])
        raise InputError(f"no record has {named}; the first record's keys are: {keys} (a nested "
                         "field is a dotted path: \"request_type.title\")")


def map_records(spec: MappingSpec, records: Sequence, timezone: str, source: str, *,
                first_line: int = 1, seen: Counter | None = None) -> pd.DataFrame:
    """The canonical frame (sources.base contract) of RECORDS, a list of JSON objects (dicts) such
    as a portal API returns, mapped by SPEC (`load_mapping(path)` or `parse_mapping(dict)`).

    Column names in SPEC are keys or dotted paths into each record ("request_type.title",
    "media.0.url"); every other key (dates, epoch, [coordinates] crs, [id], value tables) applies
    as for a file. TIMEZONE is the city's; SOURCE is recorded in each row's `source` (e.g.
    "socrata:erm2-nwe9"); FIRST_LINE numbers the records for quarantine (pass the running count
    when mapping page after page). With `[id] generate = "content"`, pass one `seen` Counter for
    all the pages of one pull: a record's occurrence number counts across them, so identical
    records stay distinct. An item that is not an object becomes a rejected record. InputError
    when no record has the path of created_at or of the id.
    """
    _check_paths(spec, records)
    batch = records_batch(spec, records, first_line)
    return canonical_frame(batch, map_batch(spec, batch, timezone, seen), source)


# --- applying a mapping to a batch ----------------------------------------------------------


def _to_city_clock(naive: pa.Array, source_tz: str, city_tz: str) -> pa.Array:
    aware = pc.assume_timezone(naive, timezone=source_tz, ambiguous="earliest",
                               nonexistent="earliest")
    return pc.local_timestamp(aware.cast(pa.timestamp("us", tz=city_tz)))


def epoch_times(values: pa.Array, city_tz: str) -> pa.Array:
    """Naive city-local timestamps from Unix times (UTC): seconds, or milliseconds when the value
    is too large to be seconds (after the year 5000); null where the text is not a number."""
    numbers = parsing.numbers(values).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        millis = np.abs(numbers) >= 1e11
        micros = np.where(millis, numbers * 1e3, numbers * 1e6)
        ok = np.isfinite(micros) & (np.abs(micros) < 2.5e17)  # within datetime's range
    utc = pa.array(np.where(ok, micros, 0).astype(np.int64), pa.timestamp("us", tz="UTC"),
                   mask=~ok)
    return pc.local_timestamp(utc.cast(pa.timestamp("us", tz=city_tz))).cast(parsing.TIMESTAMP)


def _datetimes(values: pa.Array, spec: MappingSpec, city_tz: str) -> pa.Array:
    """Naive city-local timestamps, by the mapping's formats (or detected ones), in order."""
    clock = spec.timezone or city_tz

    def to_city(local: pa.Array) -> pa.Array:
        return _to_city_clock(local, clock, city_tz) if clock != city_tz else local

    if not spec.formats:
        return to_city(parsing.datetimes(values, clock))
    s = parsing.text(values)
    result = pa.nulls(len(s), parsing.TIMESTAMP)
    for fmt in spec.formats:
        if fmt == EPOCH:
            parsed = epoch_times(s, city_tz)
        else:
            if fmt == ISO:
                local = parsing.datetimes(s, clock)
            else:
                local = pc.strptime(s, format=fmt, unit="us", error_is_null=True)
                if local.type.tz is not None:  # %z: the offset says which clock
                    local = pc.local_timestamp(local.cast(pa.timestamp("us", tz=clock)))
            parsed = to_city(local.cast(parsing.TIMESTAMP))
        result = pc.coalesce(result, parsed)
    return result


def _column(batch: Batch, spec: MappingSpec, name: str) -> pa.Array:
    return batch.column(spec.key(name)).combine_chunks()


def _text_field(batch: Batch, spec: MappingSpec, name: str) -> pa.Array | None:
    columns = [_column(batch, spec, c) for c in spec.columns.get(name, ())]
    if not columns:
        return None
    if len(columns) == 1:
        return parsing.text(columns[0])
    parts = [parsing.text(c) for c in columns]
    if name in TIMESTAMP_FIELDS:  # a date and its time of day: "03/01/2024" + " " + "09:30 AM"
        # (a date exported as a midnight timestamp, "2024-03-01T00:00:00.000", loses its time)
        parts[0] = pc.replace_substring_regex(parts[0], r"[T ]00:00(:00(\.0+)?)?$", "")
        return parsing.text(pc.binary_join_element_wise(*parts, " ", null_handling="skip"))
    joined = pc.binary_join_element_wise(*parts, ", ", null_handling="skip")
    return parsing.text(joined)


def _project(lat: pa.Array, lon: pa.Array, crs: str | None) -> tuple[pa.Array, pa.Array]:
    """lat/lon as numbers in degrees: through CRS when the mapping declares one."""
    if crs is None:
        return parsing.numbers(lat), parsing.numbers(lon)
    return parsing.projected(lon, lat, crs)


def _coordinates(batch: Batch, spec: MappingSpec, n: int
                 ) -> tuple[pa.Array | None, pa.Array | None]:
    """lat/lon in degrees: the lat/lon columns, else the location column, else x/y (the fallbacks
    only for rows still without both). lat/lon and location are degrees unless [coordinates] crs
    says otherwise; x/y are converted with it. Values are kept as published, (0, 0) included:
    ingest flags placeholder coordinates, and stops a load whose coordinates are not degrees."""
    get = partial(_text_field, batch, spec)
    if not any(f in spec.columns for f in ("lat", "lon", "location", "x")):
        return None, None
    blank = pa.nulls(n, pa.string())
    lat, lon = pa.nulls(n, pa.float64()), pa.nulls(n, pa.float64())
    if "lat" in spec.columns or "lon" in spec.columns:
        lat, lon = _project(get("lat") or blank, get("lon") or blank, spec.crs)
    fallbacks = []
    if "location" in spec.columns:
        def from_location(rows: pa.Array) -> tuple[pa.Array, pa.Array]:
            found_lat, found_lon = parsing.point(pc.filter(get("location"), rows))
            return _project(found_lat, found_lon, spec.crs) if spec.crs else (found_lat, found_lon)
        fallbacks.append(from_location)
    if "x" in spec.columns:
        def from_xy(rows: pa.Array) -> tuple[pa.Array, pa.Array]:
            return parsing.projected(pc.filter(get("x"), rows), pc.filter(get("y"), rows),
                                     spec.crs)
        fallbacks.append(from_xy)
    for fallback in fallbacks:
        missing = pc.or_(pc.is_null(lat), pc.is_null(lon))
        missing = pc.or_(missing, pc.or_(pc.is_nan(lat), pc.is_nan(lon)))
        missing = pc.fill_null(missing, True)
        if not pc.any(missing).as_py():
            break
        found_lat, found_lon = fallback(missing)
        lat = pc.replace_with_mask(lat, missing, pa.array(found_lat, pa.float64()))
        lon = pc.replace_with_mask(lon, missing, pa.array(found_lon, pa.float64()))
    return lat, lon


def _check_columns(batch: Batch, spec: MappingSpec) -> None:
    missing = [(f, c) for f, names in [*spec.columns.items(), ("[id] columns", spec.id_columns)]
               for c in names if batch.column(spec.key(c)) is None]
    if missing:
        named = ", ".join(f"{c!r} ({f})" for f, c in missing)
        found = ", ".join(batch.names[:15])
        hint = ""
        if any("." in c for _, c in missing):
            hint = "; a dotted path into JSON records needs [file] format = \"json\""
        raise InputError(f"the file lacks columns the mapping names: {named}; "
                         f"its columns are: {found}{hint}")


def _mapped(values: pa.Array, table: dict[str, str]) -> pa.Array:
    """TABLE's value for each (case-insensitive) value; null where TABLE has none."""
    keys = pc.utf8_lower(parsing.text(values))
    index = pc.index_in(keys, value_set=pa.array(list(table), pa.string()))
    return pc.take(pa.array(list(table.values()), pa.string()), index)


def _status_and_closure(fields: dict, spec: MappingSpec, n: int) -> tuple[pa.Array, pa.Array]:
    """status: the mapping's table, then the usual spellings; the raw value if still unknown
    (ingest flags it); closed iff closed_at where the export has no status. closure: the
    mapping's table (closure column, else status column), else sources.parsing's rules."""
    closed_at = fields["closed_at"]
    if closed_at is None:
        closed_at = pa.nulls(n, parsing.TIMESTAMP)
    raw_status = fields["status"]
    derived = pc.if_else(pc.is_null(closed_at), "open", "closed")
    state = derived if raw_status is None else pc.coalesce(
        parsing.lookup(raw_status, {**parsing.STATUS, **spec.status}), derived)
    note = fields["resolution"] if fields["resolution"] is not None else fields["closure"]
    closure = parsing.closure(state, raw_status, note)
    looked_up = fields["closure"] if fields["closure"] is not None else raw_status
    if spec.closure and looked_up is not None:
        closed = pc.fill_null(pc.equal(state, "closed"), False)
        closure = pc.if_else(closed, pc.coalesce(_mapped(looked_up, spec.closure), closure),
                             closure)
    return state, closure


def _composite_id(batch: Batch, spec: MappingSpec) -> pa.Array:
    """[id] columns: the values joined by "|" (an empty part stays empty); null when all are."""
    parts = [parsing.text(_column(batch, spec, c)) for c in spec.id_columns]
    if len(parts) == 1:
        return parts[0]
    anything = pc.coalesce(*parts)
    joined = pc.binary_join_element_wise(*parts, "|", null_handling="replace",
                                         null_replacement="")
    return pc.if_else(pc.is_null(anything), pa.scalar(None, pa.string()), joined)


def _content_id(batch: Batch, spec: MappingSpec, seen: Counter) -> pa.Array:
    """[id] generate = "content": a hash of the record's identifying columns (every mapped column
    but the STATE_FIELDS ones, in field order) and, from its second occurrence in the file on,
    its occurrence number ("<hash>-2"). SEEN counts the hashes met so far in the file."""
    names = [c for f in sorted(spec.columns) if f not in STATE_FIELDS for c in spec.columns[f]]
    names = list(dict.fromkeys(names))
    parts = [pc.fill_null(parsing.text(_column(batch, spec, c)), "") for c in names]
    if len(parts) > 1:
        content = pc.binary_join_element_wise(*parts, "\x1f").to_pylist()
    else:
        content = parts[0].to_pylist()
    ids = []
    for text in content:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
        seen[digest] += 1
        count = seen[digest]
        ids.append(digest if count == 1 else f"{digest}-{count}")
    return pa.array(ids, pa.string())


def map_batch(spec: MappingSpec, batch: Batch, timezone: str,
              seen: Counter | None = None) -> dict[str, pa.Array | None]:
    """The canonical fields of one batch, by the mapping. SEEN: the content ids' occurrence
    counts so far in this file (see _content_id)."""
    _check_columns(batch, spec)
    n = batch.num_rows
    get = partial(_text_field, batch, spec)
    fields: dict[str, pa.Array | None] = {
        name: get(name) for name in FIELDS
        if name not in TIMESTAMP_FIELDS + NUMBER_FIELDS + ("location", "zip")
    }
    if spec.id_columns:
        fields["request_id"] = _composite_id(batch, spec)
    elif spec.id_generate:
        fields["request_id"] = _content_id(batch, spec, Counter() if seen is None else seen)
    for name in TIMESTAMP_FIELDS:
        fields[name] = _datetimes(get(name), spec, timezone) if name in spec.columns else None
    fields["lat"], fields["lon"] = _coordinates(batch, spec, n)
    if "zip" in spec.columns:
        zip5 = parsing.zip5(get("zip"))
        address = fields["address"]
        fields["address"] = zip5 if address is None else parsing.joined(address, zip5, ", ")
    if "status" in spec.columns or "closed_at" in spec.columns:
        fields["status"], fields["closure"] = _status_and_closure(fields, spec, n)
    else:  # the source records no state at all: no status (ingest: volume, never backlog)
        fields["status"] = fields["closure"] = None
        fields[NO_STATUS] = pa.repeat(pa.scalar(True), n)
    if fields[SOURCE_DISTRICT] is not None:  # "Ward 08" -> "8", as boundary files name them
        fields[SOURCE_DISTRICT] = parsing.district(fields[SOURCE_DISTRICT])
    if fields["channel"] is not None:
        fields["channel"] = parsing.lookup(fields["channel"], {**parsing.CHANNELS, **spec.channel},
                                           default="other")
    return fields


@dataclass(frozen=True)
class MappingAdapter:
    """The adapter (sources.base contract) that reads files the way a mapping describes."""

    spec: MappingSpec

    @property
    def name(self) -> str:
        return self.spec.name

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        path = Path(path)
        spec = self.spec
        source = f"{spec.name}:{path.name}"
        seen: Counter = Counter()  # content ids count occurrences within one file
        if spec.reads_documents:
            batches = _document_batches(path, spec)
        else:
            batches = read_batches(path, layouts={} if spec.header else _Positional())
        first = True
        for batch in prefetched(batches):
            if first and spec.reads_documents:
                _check_paths(spec, _batch_records(batch))
            first = False
            yield canonical_frame(batch, map_batch(spec, batch, timezone, seen), source)


def _batch_records(batch: Batch) -> Sequence:
    raw = batch.raw_text
    return raw.records if isinstance(raw, _RawJSON) else ()


def adapter_for(spec: MappingSpec) -> MappingAdapter:
    """The adapter (sources.base contract) that reads files the way SPEC describes."""
    return MappingAdapter(spec)


def load_adapter(path: Path | str) -> MappingAdapter:
    """The adapter for a mapping file (`civicstat ingest --mapping FILE.toml`)."""
    return adapter_for(load_mapping(path))
