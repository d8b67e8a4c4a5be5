"""`--mapping FILE.toml`: any CSV export, described by a mapping file instead of code.

The mapping says which column is which canonical field, how dates are written and on which
clock, and how the export's status / closure / channel values translate (docs/mapping-example.toml
is a complete, commented example). Reading the file (encodings, line endings, quoted line breaks)
is sources.reading's; parsing values is sources.parsing's: this module only applies the mapping.

Keys:
- `name`: the source's name, recorded in each row's `source` ("NAME:FILE").
- `[file]`: `header` (default true; false = columns are given by position, 1 = the first) and
  `delimiter` (comma, tab, semicolon or pipe; detected by the reader, any other is refused).
- `[dates]`: `formats` (strptime formats, tried in order, "ISO8601" for ISO with or without an
  offset; omitted: the common 311 formats are detected), `timezone` (the clock the times are on;
  omitted: the city's). Times with an explicit offset are converted from that offset.
- `[columns]`: canonical field = column name (or position). request_id and created_at are
  required. Text fields may name several columns, joined with ", ". Extra fields: `location`
  (one column holding "(lat, lon)", "POINT (lon lat)"...), `zip` (a ZIP code, made 5 digits and
  appended to the address: "2119.0" -> "02119"), `source_district` ("Ward 08" is read as "8")
  and `source_neighborhood` (used for rows without usable coordinates).
- `[status]`, `[closure]`, `[channel]`: canonical value = [the export's values], compared
  case-insensitively. Values not listed fall back to the spellings sources.parsing knows; a status
  still unknown is kept and flagged by ingest, a channel still unknown becomes "other". The
  closure values are looked up in the `closure` column, else in the `status` column.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc

from civicstat.core.schema import CHANNELS, CLOSURES, COLUMN_NAMES, STATUSES
from civicstat.ingest.sources import parsing
from civicstat.ingest.sources.base import SOURCE_DISTRICT, SOURCE_NEIGHBORHOOD, InputError
from civicstat.ingest.sources.reading import DELIMITERS, Batch, TabularAdapter, header_key

TIMESTAMP_FIELDS = ("created_at", "updated_at", "closed_at", "due_at")
NUMBER_FIELDS = ("lat", "lon")
EXTRA_FIELDS = ("location", "zip", SOURCE_DISTRICT, SOURCE_NEIGHBORHOOD)
ALIASES = {"district": SOURCE_DISTRICT, "neighborhood": SOURCE_NEIGHBORHOOD}
FIELDS = tuple(c for c in COLUMN_NAMES if c not in ("source", "district", "neighborhood")) \
    + EXTRA_FIELDS
REQUIRED = ("request_id", "created_at")
ISO = "ISO8601"


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
    formats: tuple[str, ...] = ()
    timezone: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> column names
    status: dict[str, str] = field(default_factory=dict)  # lower-case value -> open/closed
    closure: dict[str, str] = field(default_factory=dict)
    channel: dict[str, str] = field(default_factory=dict)

    def key(self, column: str) -> str:
        """The reader's key for a column name (or position)."""
        return header_key(column) if self.header else column


def _values_table(raw: dict, allowed: Sequence[str], where: str) -> dict[str, str]:
    """{canonical: [values]} from the TOML -> {lower-case value: canonical}."""
    table: dict[str, str] = {}
    for canonical, values in raw.items():
        if canonical not in allowed:
            raise InputError(f"{where}: {canonical!r} is not one of {', '.join(allowed)}")
        for value in [values] if isinstance(values, str) else values:
            table[str(value).strip().lower()] = canonical
    return table


def _columns(raw: dict, header: bool, where: str) -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        target = ALIASES.get(name, name)
        if target not in FIELDS:
            raise InputError(f"{where}: unknown field {name!r}; fields: {', '.join(FIELDS)}")
        names = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        if not header and not all(n.isdigit() and int(n) >= 1 for n in names):
            raise InputError(f"{where}: {name} must be a column position (1 = first) "
                             "when header = false")
        if len(names) > 1 and target in TIMESTAMP_FIELDS + NUMBER_FIELDS + ("location",):
            raise InputError(f"{where}: {name} takes one column")
        columns[target] = names
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise InputError(f"{where}: [columns] must name {' and '.join(missing)}")
    return columns


def load_mapping(path: Path | str) -> MappingSpec:
    """Read and check a mapping file; InputError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mapping file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not a readable TOML file ({exc})") from exc
    where = path.name
    file_options = raw.get("file", {})
    header = bool(file_options.get("header", True))
    delimiter = file_options.get("delimiter", ",")
    if delimiter not in DELIMITERS:
        raise InputError(
            f"{where}: delimiter {delimiter!r} is not supported (comma, tab, semicolon or pipe)"
        )
    dates = raw.get("dates", {})
    formats = dates.get("formats", dates.get("format", ()))
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    timezone = dates.get("timezone")
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"{where}: unknown time zone {timezone!r}") from exc
    return MappingSpec(
        name=str(raw.get("name") or path.stem),
        header=header,
        formats=formats,
        timezone=timezone,
        columns=_columns(raw.get("columns", {}), header, where),
        status=_values_table(raw.get("status", {}), STATUSES, f"{where} [status]"),
        closure=_values_table(raw.get("closure", {}), CLOSURES, f"{where} [closure]"),
        channel=_values_table(raw.get("channel", {}), CHANNELS, f"{where} [channel]"),
    )


# --- applying a mapping to a batch ----------------------------------------------------------


def _to_city_clock(naive: pa.Array, source_tz: str, city_tz: str) -> pa.Array:
    aware = pc.assume_timezone(naive, timezone=source_tz, ambiguous="earliest",
                               nonexistent="earliest")
    return pc.local_timestamp(aware.cast(pa.timestamp("us", tz=city_tz)))


def _datetimes(values: pa.Array, spec: MappingSpec, city_tz: str) -> pa.Array:
    """Naive city-local timestamps, by the mapping's formats (or detected ones)."""
    clock = spec.timezone or city_tz
    if not spec.formats:
        local = parsing.datetimes(values, clock)
    else:
        s = parsing.text(values)
        local = pa.nulls(len(s), parsing.TIMESTAMP)
        for fmt in spec.formats:
            if fmt == ISO:
                parsed = parsing.datetimes(s, clock)
            else:
                parsed = pc.strptime(s, format=fmt, unit="us", error_is_null=True)
                if parsed.type.tz is not None:  # %z: the offset says which clock
                    parsed = pc.local_timestamp(parsed.cast(pa.timestamp("us", tz=clock)))
            local = pc.coalesce(local, parsed.cast(parsing.TIMESTAMP))
    return _to_city_clock(local, clock, city_tz) if clock != city_tz else local


def _text_field(batch: Batch, spec: MappingSpec, name: str) -> pa.Array | None:
    columns = [batch.column(spec.key(c)).combine_chunks() for c in spec.columns.get(name, ())]
    if not columns:
        return None
    if len(columns) == 1:
        return parsing.text(columns[0])
    joined = pc.binary_join_element_wise(*(parsing.text(c) for c in columns), ", ",
                                         null_handling="skip")
    return parsing.text(joined)


def _coordinates(lat: pa.Array | None, lon: pa.Array | None, location: pa.Array | None,
                 n: int) -> tuple[pa.Array | None, pa.Array | None]:
    """lat/lon as numbers, from the location column where they are missing. Values are kept as
    published, (0, 0) included: ingest flags placeholder coordinates."""
    if lat is None and lon is None and location is None:
        return None, None
    blank = pa.nulls(n, pa.float64())
    lat = blank if lat is None else parsing.numbers(lat)
    lon = blank if lon is None else parsing.numbers(lon)
    if location is not None:
        missing = pc.or_(pc.is_null(lat), pc.is_null(lon))
        found_lat, found_lon = parsing.point(location)
        lat = pc.if_else(missing, found_lat, lat)
        lon = pc.if_else(missing, found_lon, lon)
    return lat, lon


def _check_columns(batch: Batch, spec: MappingSpec) -> None:
    missing = [(f, c) for f, names in spec.columns.items() for c in names
               if batch.column(spec.key(c)) is None]
    if missing:
        named = ", ".join(f"{c!r} ({f})" for f, c in missing)
        found = ", ".join(batch.names[:15])
        raise InputError(f"the file lacks columns the mapping names: {named}; "
                         f"its columns are: {found}")


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


def map_batch(spec: MappingSpec, batch: Batch, timezone: str) -> dict[str, pa.Array | None]:
    """The canonical fields of one batch, by the mapping."""
    _check_columns(batch, spec)
    n = batch.num_rows
    get = partial(_text_field, batch, spec)
    fields: dict[str, pa.Array | None] = {
        name: get(name) for name in FIELDS
        if name not in TIMESTAMP_FIELDS + NUMBER_FIELDS + ("location", "zip")
    }
    for name in TIMESTAMP_FIELDS:
        fields[name] = _datetimes(get(name), spec, timezone) if name in spec.columns else None
    fields["lat"], fields["lon"] = _coordinates(get("lat"), get("lon"), get("location"), n)
    if "zip" in spec.columns:
        zip5 = parsing.zip5(get("zip"))
        address = fields["address"]
        fields["address"] = zip5 if address is None else parsing.joined(address, zip5, ", ")
    fields["status"], fields["closure"] = _status_and_closure(fields, spec, n)
    if fields[SOURCE_DISTRICT] is not None:  # "Ward 08" -> "8", as boundary files name them
        fields[SOURCE_DISTRICT] = parsing.district(fields[SOURCE_DISTRICT])
    if fields["channel"] is not None:
        fields["channel"] = parsing.lookup(fields["channel"], {**parsing.CHANNELS, **spec.channel},
                                           default="other")
    return fields


def adapter_for(spec: MappingSpec) -> TabularAdapter:
    """The adapter (sources.base contract) that reads files the way SPEC describes."""
    layouts = {} if spec.header else _Positional()
    return TabularAdapter(spec.name, partial(map_batch, spec), layouts)


def load_adapter(path: Path | str) -> TabularAdapter:
    """The adapter for a mapping file (`civicstat ingest --mapping FILE.toml`)."""
    return adapter_for(load_mapping(path))
