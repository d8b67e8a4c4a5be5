"""Vectorised parsers for the values found in 311 exports (pyarrow arrays in, arrays out).

Dates in many formats, coordinates in every shape exports use, State Plane projections, ZIP
codes stored as floats, district labels, and the value maps from a source's status / channel /
closing text to the canonical vocabulary (civicstat.core.schema).

Speed matters (millions of rows): the common case is tried first on the whole column, and the
rarer forms only on the rows it left unparsed; text maps run once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from civicstat.core.errors import excerpt
from civicstat.ingest.sources.base import InputError
from civicstat.ingest.sources.reading import Batch

Array = pa.Array | pa.ChunkedArray
TIMESTAMP = pa.timestamp("us")
NULL_TEXT = pa.scalar(None, pa.string())

# Tried after ISO 8601, the ones that fit a sample of the column first. A two-digit year comes
# before a four-digit one: "%Y" would read 15 as the year 0015.
_TIMES = ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M", "")
DATE_FORMATS = tuple(
    f"%m/%d/{year} {time}".strip() for time in _TIMES for year in ("%y", "%Y")
)  # 04/18/2019 09:55:45 PM (NYC portal, MyLA311, Chicago portal), 12/31/15 23:08 (spreadsheets)
_ISO_NAIVE = r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?$"
_ISO_AWARE = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$"

# status as published (lower case) -> canonical status
STATUS = {
    "closed": "closed", "completed": "closed", "complete": "closed", "resolved": "closed",
    "cancelled": "closed", "canceled": "closed", "referred out": "closed",
    "closed - dup": "closed", "completed - dup": "closed", "canceled - dup": "closed",
    "open": "open", "in progress": "open", "assigned": "open", "pending": "open",
    "started": "open", "email sent": "open", "forward": "open", "open - dup": "open",
    "new": "open", "reopened": "open", "acknowledged": "open", "accepted": "open",
}
# a status that says how the request was closed
CLOSURE_BY_STATUS = {
    "cancelled": "cancelled", "canceled": "cancelled", "referred out": "referred",
    "closed - dup": "duplicate", "completed - dup": "duplicate", "canceled - dup": "duplicate",
    "open - dup": "duplicate",
}
# closing text (resolution note, closure reason): the first matching rule wins, else "resolved"
CLOSURE_RULES: tuple[tuple[str, str], ...] = (
    (r"duplicate|already (exists|been reported|reported)|under another service request",
     "duplicate"),
    (r"cancel", "cancelled"),
    (r"\brefer|transferred|jurisdiction|forwarded to", "referred"),
    (r"invalid|admin\w* clos|adclsd|backlog", "other"),
)
# how the request came in (lower case) -> canonical channel; anything else is "other"
CHANNELS = {
    "phone": "phone", "call": "phone", "phone call": "phone", "constituent call": "phone",
    "voicemail": "phone", "telephone": "phone", "queue initiated customer call": "phone",
    "online": "web", "web": "web", "internet": "web", "self service": "web", "web form": "web",
    "website": "web", "chat": "web", "self service_san": "web",
    "mobile": "app", "mobile app": "app", "app": "app", "mobile device": "app",
    "citizens connect app": "app", "bos:311 app": "app", "mobile/open311": "app",
    "open311": "app", "spot-open311": "app", "spot-open311-json": "app",
    "open311 interface": "app",
    "email": "email", "e-mail": "email",
    "walk in": "walk-in", "walk-in": "walk-in", "walkin": "walk-in",
    "twitter": "social", "facebook": "social", "social media": "social",
    "city worker app": "internal", "employee generated": "internal", "internal": "internal",
    "integrated agency": "internal", "driver self report": "internal",
    "generated in house": "internal", "maximo integration": "internal",
    "salesforce mobile app": "internal", "council's office": "internal",
    "alderman's office": "internal", "mayor's office": "internal", "other department": "internal",
}


def one_chunk(values: Array) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


class Columns:
    """A batch seen through an adapter's column map: field name -> the source's header keys."""

    def __init__(self, batch: Batch, spec: Mapping[str, Sequence[str]]):
        self.batch = batch
        self.spec = spec

    def has(self, name: str) -> bool:
        return self.batch.column(*self.spec[name]) is not None

    def get(self, name: str) -> Array:
        """The source column for `name`, or all nulls when the source lacks it."""
        column = self.batch.column(*self.spec[name])
        return column if column is not None else pa.nulls(self.batch.num_rows, pa.string())

    def text(self, name: str) -> Array:
        return text(self.get(name))

    def require(self, adapter: str, *names: str) -> None:
        """InputError naming every required column the source lacks."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            wanted = "; ".join(f"{n} (one of: {', '.join(self.spec[n])})" for n in missing)
            seen = ", ".join(excerpt(n, 30) for n in self.batch.names[:12])
            raise InputError(
                f"not a {adapter} export: missing required columns {wanted}; found {seen}..."
            )


def _patch(values: Array, mask: Array, fn: Callable[[Array], Array]) -> Array:
    """values with fn(values[mask]) written where mask is true (fn sees only those rows)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return values
    found = fn(pc.filter(values, mask))
    return pc.replace_with_mask(one_chunk(values), one_chunk(mask), one_chunk(found))


def _per_value(values: Array, fn: Callable[[pa.Array], pa.Array]) -> Array:
    """fn computed once per distinct value (for columns with few distinct values)."""
    distinct = pc.unique(values)
    if isinstance(distinct, pa.ChunkedArray):
        distinct = distinct.combine_chunks()
    return pc.take(fn(distinct), pc.index_in(values, value_set=distinct))


def text(values: Array) -> Array:
    """Trimmed text, null where empty."""
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), NULL_TEXT, trimmed)


def first_text(*columns: Array) -> pa.Array:
    """Per row, the first non-empty value among the columns."""
    return pc.coalesce(*(text(c) for c in columns))


# --- dates ----------------------------------------------------------------------------------


def _iso_naive(values: pa.Array, timezone: str) -> pa.Array:
    return _cast_each(values, _ISO_NAIVE, TIMESTAMP)


def _iso_aware(values: pa.Array, timezone: str) -> pa.Array:
    values = pc.replace_substring_regex(values, r" ?UTC$", "Z")
    aware = _cast_each(values, _ISO_AWARE, pa.timestamp("us", tz="UTC"))
    return pc.local_timestamp(aware.cast(pa.timestamp("us", tz=timezone)))


def _cast_each(values: pa.Array, pattern: str, target: pa.DataType) -> pa.Array:
    """Cast to a timestamp; values that are not `pattern` or not a real date become null."""
    try:
        return pc.cast(values, target)
    except pa.ArrowInvalid:
        pass
    fits = pc.match_substring_regex(values, pattern)
    values = pc.if_else(fits, values, NULL_TEXT)
    try:
        return pc.cast(values, target)
    except pa.ArrowInvalid:  # an impossible date (2024-02-30) among them: one by one
        return pa.array([_cast_one(v, target) for v in values.to_pylist()], target)


def _cast_one(value: str | None, target: pa.DataType):
    if value is None:
        return None
    try:
        return pc.cast(pa.array([value]), target)[0].as_py()
    except pa.ArrowInvalid:
        return None


def _strptime(fmt: str) -> Callable[[pa.Array, str], pa.Array]:
    def parse(values: pa.Array, timezone: str) -> pa.Array:
        return pc.strptime(values, format=fmt, unit="s", error_is_null=True).cast(TIMESTAMP)

    return parse


_DATE_PARSERS = (_iso_naive, _iso_aware, *(_strptime(f) for f in DATE_FORMATS))


def datetimes(values: Array, timezone: str, *, utc_label_is_local: bool = False) -> pa.Array:
    """Naive local timestamps from any of the formats exports use; null where unparseable.

    ISO 8601 with an offset, `Z` or a ` UTC` suffix is converted to the city's time zone;
    anything else is already local. `utc_label_is_local` reads ` UTC` as a mislabel (see sf).
    """
    s = text(values)
    if utc_label_is_local:
        s = _patch(s, pc.ends_with(s, " UTC"), lambda v: pc.utf8_slice_codeunits(v, 0, -4))
    sample = pc.drop_null(s)[:50]
    if len(sample) == 0:
        return pa.nulls(len(s), TIMESTAMP)

    def hits(parser) -> int:
        return len(sample) - parser(sample, timezone).null_count

    parsers = sorted(_DATE_PARSERS, key=lambda p: -hits(p))  # stable: ties keep their order
    result = one_chunk(parsers[0](s, timezone))
    for parser in parsers[1:]:
        todo = one_chunk(pc.and_(pc.is_null(result), pc.is_valid(s)))
        if not pc.any(todo).as_py():
            break
        found = one_chunk(parser(pc.filter(s, todo), timezone))
        result = pc.replace_with_mask(result, todo, found)
    return result


# --- numbers and places ---------------------------------------------------------------------


def numbers(values: Array) -> pa.Array:
    """float64, null where the text is not a number (commas as thousands separators allowed)."""
    try:
        return one_chunk(pc.cast(values, pa.float64()))
    except pa.ArrowInvalid:
        pass
    s = pc.replace_substring(text(values), ",", "")
    ok = pc.match_substring_regex(s, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
    return one_chunk(pc.if_else(ok, s, NULL_TEXT).cast(pa.float64()))


_LAT_KEY = r"[\"']?latitude[\"']?\s*[:=]\s*[\"']?(?P<v>[-+]?\d+\.?\d*)"
_LON_KEY = r"[\"']?longitude[\"']?\s*[:=]\s*[\"']?(?P<v>[-+]?\d+\.?\d*)"
_POINT_SHAPES = (  # (pattern, whether the first number is the longitude)
    (r"coordinates[\"']?\s*:\s*\[\s*(?P<a>[-+]?\d+\.?\d*)\s*,\s*(?P<b>[-+]?\d+\.?\d*)", True),
    (r"POINT\s*\(\s*(?P<a>[-+]?\d+\.?\d*)\s+(?P<b>[-+]?\d+\.?\d*)\s*\)", True),
    (r"\(\s*(?P<a>[-+]?\d+\.?\d*)\s*,\s*(?P<b>[-+]?\d+\.?\d*)\s*\)", False),
)


def _group(values: pa.Array, pattern: str, index: int) -> pa.Array:
    return numbers(pc.struct_field(pc.extract_regex(values, pattern), [index]))


def point(values: Array) -> tuple[pa.Array, pa.Array]:
    """(lat, lon) from a location column in any of its forms, null where there is none.

    "(40.7, -73.9)", "POINT (-73.9 40.7)", a GeoJSON point {"type": "Point", "coordinates":
    [lon, lat]}, and SODA's {"latitude": ..., "longitude": ...} as JSON or as a Python dict.
    """
    s = text(values)
    lat, lon = _group(s, _LAT_KEY, 0), _group(s, _LON_KEY, 0)
    for pattern, lon_first in _POINT_SHAPES:
        a, b = _group(s, pattern, 0), _group(s, pattern, 1)
        first, second = (b, a) if lon_first else (a, b)
        use = pc.and_(pc.is_null(lat), pc.is_valid(first))
        lat, lon = pc.if_else(use, first, lat), pc.if_else(use, second, lon)
    return lat, lon


@lru_cache(maxsize=8)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def projected(x: Array, y: Array, crs: str) -> tuple[pa.Array, pa.Array]:
    """(lat, lon) from projected x/y (e.g. State Plane feet), null where x or y is missing or 0."""
    xs = numbers(x).to_numpy(zero_copy_only=False)
    ys = numbers(y).to_numpy(zero_copy_only=False)
    ok = np.isfinite(xs) & np.isfinite(ys) & (xs != 0) & (ys != 0)
    lat = np.full(len(xs), np.nan)
    lon = np.full(len(xs), np.nan)
    if ok.any():
        lon[ok], lat[ok] = _transformer(crs).transform(xs[ok], ys[ok])
    return pa.array(lat, from_pandas=True), pa.array(lon, from_pandas=True)


def coordinates(
    lat: Array, lon: Array, location: Array | None = None,
    xy: tuple[Array, Array, str] | None = None,
) -> tuple[pa.Array, pa.Array]:
    """(lat, lon): the lat/lon columns, else the location column, else projected x/y.

    The fallbacks only look at the rows still without coordinates. Values are kept as
    published, (0, 0) and placeholder points included: ingest flags them.
    """
    lat, lon = numbers(lat), numbers(lon)
    fallbacks: list[Callable[[pa.Array], tuple[pa.Array, pa.Array]]] = []
    if location is not None:
        fallbacks.append(lambda rows: point(pc.filter(location, rows)))
    if xy is not None:
        x, y, crs = xy
        fallbacks.append(lambda rows: projected(pc.filter(x, rows), pc.filter(y, rows), crs))
    for fallback in fallbacks:
        missing = pc.or_(pc.is_null(lat), pc.is_null(lon))
        if not pc.any(missing).as_py():
            break
        found_lat, found_lon = fallback(missing)
        lat = pc.replace_with_mask(lat, missing, found_lat)
        lon = pc.replace_with_mask(lon, missing, found_lon)
    return lat, lon


def zip5(values: Array) -> pa.Array:
    """Five-digit ZIP text: 2119.0 -> "02119", "10033-1234" -> "10033"; null when not a ZIP."""

    def clean(unique: pa.Array) -> pa.Array:
        s = pc.replace_substring_regex(text(unique), r"\.0+$", "")
        digits = pc.struct_field(pc.extract_regex(s, r"^(?P<z>\d{3,5})(?:-\d{4})?$"), [0])
        return pc.utf8_lpad(digits, 5, "0")

    return _per_value(values, clean)


def district(values: Array) -> Array:
    """A district / ward label in one form: "Ward 08", "08", "8.0" -> "8"; other text as is.

    "0" (Boston's ward for a place in no ward) is no district: null.
    """

    def clean(unique: pa.Array) -> pa.Array:
        s = pc.replace_substring_regex(
            text(unique), r"(?i)^(council\s+district|district|ward|cd)\s*#?\s*", ""
        )
        s = pc.replace_substring_regex(s, r"^0+(\d)", r"\1")
        s = pc.replace_substring_regex(s, r"^(\d+)\.0+$", r"\1")
        return pc.if_else(pc.equal(s, "0"), NULL_TEXT, s)

    return _per_value(values, clean)


# --- value maps -----------------------------------------------------------------------------


def lookup(values: Array, table: Mapping[str, str], default: str | None = None) -> pa.Array:
    """Map values (compared trimmed and lower case) through `table`; unmatched -> default.

    With default None an unmatched value stays as published (so ingest can flag it).
    """

    def mapped(unique: pa.Array) -> pa.Array:
        s = text(unique)
        index = pc.index_in(pc.utf8_lower(s), value_set=pa.array(list(table), pa.string()))
        hit = pc.take(pa.array(list(table.values()), pa.string()), index)
        fallback = s if default is None else pa.scalar(default, pa.string())
        return pc.if_else(pc.is_null(s), NULL_TEXT, pc.coalesce(hit, fallback))

    return _per_value(values, mapped)


def status(values: Array, closed_at: Array) -> pa.Array:
    """open / closed, else the value as published; where there is none, closed iff closed_at."""
    derived = pc.if_else(pc.is_null(closed_at), "open", "closed")
    return pc.coalesce(lookup(values, STATUS), derived)


def channel(values: Array) -> pa.Array:
    return lookup(values, CHANNELS, default="other")


def _closing(rules: Sequence[tuple[str, str]]) -> Callable[[pa.Array], pa.Array]:
    def classify(unique: pa.Array) -> pa.Array:
        result = pa.nulls(len(unique), pa.string())
        for pattern, value in rules:
            hit = pc.fill_null(pc.match_substring_regex(unique, pattern, ignore_case=True), False)
            result = pc.if_else(pc.and_(pc.is_null(result), hit), value, result)
        return result

    return classify


def closure(
    status_values: Array, raw_status: Array | None = None, closing_text: Array | None = None,
    rules: Sequence[tuple[str, str]] = CLOSURE_RULES,
) -> pa.Array:
    """How a closed request was closed (null while open).

    From the published status where it says (Cancelled, Referred Out), else from the closing
    text by `rules`, else "resolved".
    """
    result = pa.nulls(len(status_values), pa.string())
    if raw_status is not None:
        result = lookup(raw_status, CLOSURE_BY_STATUS, default="")
        result = pc.if_else(pc.equal(result, ""), NULL_TEXT, result)
    if closing_text is not None:
        result = pc.coalesce(result, _per_value(closing_text, _closing(rules)))
    result = pc.coalesce(result, pa.scalar("resolved"))
    closed = pc.fill_null(pc.equal(status_values, "closed"), False)
    return pc.if_else(closed, result, NULL_TEXT)


def truthy(values: Array) -> pa.Array:
    """bool from true/false, yes/no, y/n, 1/0 (null otherwise)."""
    keys = pc.utf8_lower(text(values))
    yes = pc.is_in(keys, value_set=pa.array(["true", "t", "yes", "y", "1"]))
    no = pc.is_in(keys, value_set=pa.array(["false", "f", "no", "n", "0"]))
    return pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))


def joined(first: Array, second: Array, sep: str) -> Array:
    """first + sep + second where both are present, else whichever is."""
    a, b = text(first), text(second)
    return pc.coalesce(pc.binary_join_element_wise(a, b, sep), a, b)


def with_zip(street: Array, zips: Array) -> Array:
    """The street and its ZIP ("1 MAIN ST, 02119"), the street alone without a ZIP, else null."""
    street = text(street)
    return pc.coalesce(pc.binary_join_element_wise(street, zip5(zips), ", "), street)
