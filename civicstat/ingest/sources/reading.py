"""Read an export file into batches of text columns, and turn mapped batches into canonical frames.

Shared by the city adapters. A file is CSV (any of utf-8 / cp1252 / latin-1, LF, CRLF or bare-CR
line endings, multi-line quoted fields, with or without a header) or JSON (a SODA array with one
record per line, any array of records, or a GeoJSON FeatureCollection).

CSV is cut into blocks of about BLOCK_BYTES at record boundaries (outside quotes) and each block
is parsed by pyarrow (in one thread: faster here than its own threads), so memory stays bounded
whatever the file size. Every record becomes a row: a block pyarrow cannot parse cleanly (a line
with the wrong number of fields, blank lines) is re-read with the csv module, which is slower
but exact: a line with the wrong number of fields comes out with `_reject` set instead of being
skipped (extra fields that are all empty are dropped: trailing commas).

Hostile files (the limits below, each checked here only): a ZIP, a gzip or any file that is not
text is refused; UTF-16 (a BOM, or NULs in every other byte) is read through a UTF-8 copy; a
first row of more than MAX_COLUMNS columns, or with a "name" over MAX_NAME_CHARS, is refused
before anything else is read; a line over MAX_LINE_BYTES is one record rejected as
`record_too_long`, of which quarantine keeps the first RAW_EXCERPT_BYTES (the rest is skipped,
never held whole); JSON nested deeper than MAX_JSON_DEPTH is refused before a parser sees it.

Column names are reduced to one key form (`header_key`): "Unique Key", "unique_key" and
"UniqueKey" are all "uniquekey".
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from civicstat.core.errors import excerpt
from civicstat.ingest.prefetch import prefetched
from civicstat.ingest.sources.base import LINE, RAW, REJECT, InputError

BLOCK_BYTES = 1 << 26  # ~64 MB of CSV per batch: about 130k rows of a NYC portal export
HEAD_BYTES = 1 << 20  # where the header (or the first record) is looked for
PIECE_BYTES = 1 << 22  # a block pyarrow cannot read is retried in pieces of this size
MAX_RECORD_BYTES = 1 << 28  # no end of record outside quotes in this much: a stray quote
JSON_BATCH_ROWS = 200_000  # records per batch of a pretty-printed JSON document
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # latin-1 decodes anything: the last resort
# Hostile files (issue 16): limits every export read here is held to.
MAX_LINE_BYTES = 1 << 20  # a longer line is one rejected record (TOO_LONG), not read
RAW_EXCERPT_BYTES = 256  # what quarantine keeps of such a line: its first bytes only
TOO_LONG = "record_too_long"
MAX_COLUMNS = 2_000  # a header with more is refused before anything else is read
MAX_NAME_CHARS = 1_000  # a longer "column name" means the first row is no header
MAX_JSON_DEPTH = 64  # deeper JSON is refused (a request record is 3 or 4 levels deep)
CONTROL_SHARE = 0.05  # more control bytes than this in the first 64 KB: not a text file
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/]\d{1,2}[-/]\d{1,4}([ T]\d{1,2}:\d\d.*)?\s*$")
_NUMBER_LIKE = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


@lru_cache(maxsize=8192)
def header_key(name: str) -> str:
    """The one key form of a column name: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Batch:
    """Up to a block of records: one string column per source column (null where empty)."""

    table: pa.Table
    line: np.ndarray  # int64: the 1-based line where each record starts
    reject: list[str | None] | None = None  # per row: why the record is unreadable
    raw_text: Sequence[str | None] | None = None  # per row: the raw record, where known
    names: tuple[str, ...] = field(default=())  # the source's own column names, in order

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def column(self, *keys: str) -> pa.ChunkedArray | None:
        """The first of the given header keys the batch has, else None."""
        for key in keys:
            if key in self.table.column_names:
                return self.table.column(key)
        return None

    def raw(self, rows: np.ndarray) -> list[str]:
        """The raw text of the given rows: as read where known, else the fields re-joined as CSV."""
        picked = self.table.take(pa.array(rows, pa.int64())).to_pylist()
        out = []
        for i, record in zip(rows, picked, strict=True):
            known = self.raw_text[i] if self.raw_text is not None else None
            if known is not None:
                out.append(known)
                continue
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(
                "" if v is None else v for v in record.values()
            )
            out.append(buffer.getvalue())
        return out


def read_batches(
    path: Path, *, layouts: Mapping[int, Sequence[str]] | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[Batch]:
    """Batches of records from a CSV or JSON export.

    `layouts` names the columns of header-less CSV files, by number of columns; a CSV whose first
    row looks like data and whose width is not in `layouts` is refused (InputError).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    encoding = sniff(path)
    if encoding is not None:  # UTF-16: read a UTF-8 copy (same name, so messages name the file)
        with tempfile.TemporaryDirectory(prefix="civicstat-") as folder:
            copy = Path(folder) / path.name
            transcode(path, copy, encoding)
            yield from read_batches(copy, layouts=layouts, block_bytes=block_bytes)
        return
    with path.open("rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:1] in (b"[", b"{"):
        yield from _json_batches(path, block_bytes)
    else:
        yield from _csv_batches(path, layouts or {}, block_bytes)


# --- what kind of file ----------------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """The encoding to transcode the file from when it is UTF-16 (a BOM, or NULs in every other
    byte), else None for a text file read as it is. InputError, on one line, for an archive, a
    compressed file or anything else that is not text."""
    with Path(path).open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[: len(head) // 2 * 2]
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        for zeros, text, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if zeros.count(0) > 0.9 * len(zeros) and text.count(0) < 0.1 * len(text):
                return encoding
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise InputError(f"{path.name}: a ZIP archive (or a spreadsheet workbook), not a CSV or "
                         "JSON export; unzip it (or save it as CSV) first")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(f"{path.name}: a gzip-compressed file; decompress it first")
    control = len(head) - len(head.translate(None, _CONTROL))
    if control > CONTROL_SHARE * len(head):
        raise InputError(f"{path.name}: not a text file ({control:,} control bytes in the first "
                         f"{len(head):,}); a CSV or JSON export is text")
    return None


def transcode(source: Path, target: Path, encoding: str) -> None:
    """Write SOURCE, in ENCODING, to TARGET as UTF-8, a piece at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with source.open("rb") as src, target.open("wb") as out:
        while piece := src.read(1 << 22):
            out.write(decoder.decode(piece).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))


# --- CSV ------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _record_end(buf: bytes, term: bytes, start: int = 0) -> int:
    """Index just after the first record terminator at or after `start` that is outside quotes."""
    quotes = 0
    pos = start
    while True:
        nl = buf.find(term, pos)
        if nl < 0:
            return -1
        quotes += buf.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl + len(term)
        pos = nl + len(term)


def _last_record_end(buf: bytes, term: bytes) -> int:
    """Index just after the last record terminator that is outside quotes (0 if none)."""
    total = buf.count(b'"')
    end = len(buf)
    after = 0
    while True:
        nl = buf.rfind(term, 0, end)
        if nl < 0:
            return 0
        after += buf.count(b'"', nl, end)
        if (total - after) % 2 == 0:
            return nl + len(term)
        end = nl


# The delimiters a CSV export may use: comma, tab, semicolon (spreadsheets in many European
# locales), pipe.
DELIMITERS = (",", "\t", ";", "|")


def detect_delimiter(first_record: str) -> str:
    """The delimiter of a CSV file, from its first record: the one of DELIMITERS it holds most
    often outside quotes (a comma when none, or on a tie)."""
    unquoted = "".join(first_record.split('"')[::2])
    return max(DELIMITERS, key=unquoted.count)


def _looks_like_data(fields: Sequence[str]) -> bool:
    return any(_DATE_LIKE.match(f) or _NUMBER_LIKE.match(f) for f in fields if f.strip())


def _unique_keys(names: Sequence[str]) -> list[str]:
    keys: list[str] = []
    for i, name in enumerate(names):
        key = header_key(name) or f"column{i + 1}"
        while key in keys:
            key += "_"
        keys.append(key)
    return keys


def _csv_batches(path: Path, layouts: Mapping[int, Sequence[str]], block_bytes: int):
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        offset = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        term = b"\n" if b"\n" in head else b"\r"
        first_end = _record_end(head, term, offset)
        if first_end < 0 and len(head) == HEAD_BYTES:
            raise InputError(f"{path.name}: no end to the first line in {HEAD_BYTES:,} bytes; "
                             "not a CSV export")
        first_record = head[offset:] if first_end < 0 else head[offset:first_end]
        first_text, _ = _decode(first_record)
        delimiter = detect_delimiter(first_text)
        csv.field_size_limit(1 << 30)  # the header's length is checked below, not by csv
        first = next(csv.reader(io.StringIO(first_text, newline=""), delimiter=delimiter), [])
        if not first:
            return  # an empty file holds no records
        if len(first) > MAX_COLUMNS:
            raise InputError(f"{path.name}: the first row has {len(first):,} columns (at most "
                             f"{MAX_COLUMNS:,}); not an export this reads")
        if _looks_like_data(first):
            names = layouts.get(len(first))
            if names is None:
                raise InputError(
                    f"{path.name}: no header row, and no known layout has {len(first)} columns; "
                    "use --mapping to describe the file"
                )
            line = 1
        else:
            names = first
            longest = max(names, key=len)
            if len(longest) > MAX_NAME_CHARS:
                raise InputError(f"{path.name}: a column name of {len(longest):,} characters in "
                                 f"the first row ({excerpt(longest)}); not a header")
            line = 1 + first_record.count(term)
            offset += len(first_record)
        parser = _BlockParser(tuple(names), _unique_keys(names), delimiter, term)
        for block in _blocks(handle, offset, term, block_bytes):
            if isinstance(block, _LongLine):
                batch = block.batch(line, parser.keys, parser.names)
            else:
                batch = parser.parse(block, line)
            line += block.terms
            if batch.num_rows:
                yield batch


@dataclass
class _Block:
    """data[:end]: whole records, ending with a terminator (kept uncopied: blocks are large)."""

    data: bytes
    end: int
    terms: int  # how many line terminators: the lines the block spans

    def bytes(self) -> bytes:
        return self.data[: self.end]

    def utf8(self) -> pa.Buffer:
        """The block as UTF-8 (transcoded from cp1252 or latin-1 when it is not UTF-8)."""
        view = pa.py_buffer(self.data).slice(0, self.end)
        if _is_utf8(view):
            return view
        text, _ = _decode(self.bytes())
        return pa.py_buffer(text.encode("utf-8"))


@dataclass
class _LongLine:
    """A line longer than MAX_LINE_BYTES: one rejected record, of which only the first bytes are
    kept (the rest is skipped, never held in memory whole)."""

    head: bytes
    length: int
    terms: int = 1

    def batch(self, line: int, keys: Sequence[str] = (), names: tuple[str, ...] = ()) -> Batch:
        columns = {k: pa.nulls(1, pa.string()) for k in keys} or {"_empty": pa.nulls(1, pa.string())}
        return Batch(
            pa.table(columns),
            np.array([line], dtype=np.int64),
            reject=[TOO_LONG],
            raw_text=[_decode(self.head)[0] + f"… ({self.length:,} bytes in all)"],
            names=names,
        )


def _long_line(data: bytes, term: bytes) -> tuple[int, int] | None:
    """(start, end) of the first line in DATA longer than MAX_LINE_BYTES; end is -1 when the line
    has no terminator in DATA. None when every line is short enough."""
    if len(data) <= MAX_LINE_BYTES:
        return None
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == term[0])
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    over = np.flatnonzero(stops - starts > MAX_LINE_BYTES)
    if not len(over):
        return None
    i = int(over[0])
    return int(starts[i]), (int(stops[i]) if i < len(ends) else -1)


def _skip_line(handle, offset: int, term: bytes) -> int:
    """The offset just after the line end at or after OFFSET (the file's end when none)."""
    handle.seek(offset)
    while piece := handle.read(1 << 20):
        at = piece.find(term)
        if at >= 0:
            return offset + at + len(term)
        offset += len(piece)
    return offset


def _is_utf8(buffer: pa.Buffer) -> bool:
    """Whether the bytes are valid UTF-8 (pyarrow's validator: a few ms for 64 MB)."""
    offsets = pa.py_buffer(np.array([0, buffer.size], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, buffer])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _blocks(
    handle, offset: int, term: bytes, block_bytes: int, quoted: bool = True
) -> Iterator[_Block]:
    """The file from `offset` in pieces of about block_bytes that end at a record end (outside
    quotes when `quoted`; else every line end is one, as in JSON lines)."""
    size = block_bytes
    while True:
        handle.seek(offset)
        data = handle.read(size)
        if not data:
            return
        long = _long_line(data, term)
        if long is not None:  # the lines before it, then the long line as one rejected record
            start, end = long
            if start:
                yield _Block(data, start, data.count(term, 0, start))
            after = _skip_line(handle, offset + start, term) if end < 0 else offset + end + 1
            yield _LongLine(data[start:start + RAW_EXCERPT_BYTES], after - offset - start)
            offset, size = after, block_bytes
            continue
        if len(data) < size:  # the rest of the file
            data = data if data.endswith(term) else data + term
            yield _Block(data, len(data), data.count(term))
            return
        cut = _last_record_end(data, term) if quoted else data.rfind(term) + len(term)
        if cut == 0:
            if size < max(4 * block_bytes, MAX_RECORD_BYTES):  # a long record: read more
                size *= 2
                continue
            cut = data.rfind(term) + len(term) or len(data)  # a stray quote: cut at a line end
        yield _Block(data, cut, data.count(term, 0, cut))
        offset += cut
        size = block_bytes


@dataclass
class _BlockParser:
    names: tuple[str, ...]
    keys: list[str]
    delimiter: str
    term: bytes
    multiline: list[str] = field(default_factory=list)  # columns seen holding line breaks

    def parse(self, block: _Block, first_line: int, whole: bool = True) -> Batch:
        table = self._arrow(block)
        if table is not None:
            lines = self._lines(table, block.terms, first_line)
            if lines is not None:
                return Batch(table, lines, names=self.names)
        if whole and block.end > PIECE_BYTES:
            return self._in_pieces(block, first_line)
        return self._python(block.bytes(), first_line)

    def _in_pieces(self, block: _Block, first_line: int) -> Batch:
        """A block with something odd in it, in pieces: only the odd piece goes slow."""
        parts = []
        for piece in _blocks(io.BytesIO(block.bytes()), 0, self.term, PIECE_BYTES):
            if isinstance(piece, _LongLine):
                parts.append(piece.batch(first_line, self.keys, self.names))
            else:
                parts.append(self.parse(piece, first_line, whole=False))
            first_line += piece.terms
        rejects = [r for b in parts for r in (b.reject or [None] * b.num_rows)]
        raws = [r for b in parts for r in (b.raw_text or [None] * b.num_rows)]
        return Batch(
            pa.concat_tables([b.table for b in parts]),
            np.concatenate([b.line for b in parts]),
            reject=rejects if any(rejects) else None,
            raw_text=raws,
            names=self.names,
        )

    def _arrow(self, block: _Block) -> pa.Table | None:
        """The block parsed by pyarrow; None when a record needs the csv module's care."""
        quoted = block.data.find(b'"', 0, block.end) >= 0
        try:
            return self._arrow_utf8(block.utf8(), quoted)
        except pa.ArrowInvalid:
            return None

    def _arrow_utf8(self, data: pa.Buffer, quoted: bool) -> pa.Table | None:
        invalid = []

        def on_invalid(row):
            invalid.append(row)
            return "skip"

        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=self.keys, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=quoted,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={k: pa.string() for k in self.keys},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        return None if invalid else table

    def _lines(self, table: pa.Table, terms: int, first_line: int) -> np.ndarray | None:
        n = table.num_rows
        if n == terms:
            return first_line + np.arange(n, dtype=np.int64)
        # Records spanning lines: count the line breaks inside each record's values. Columns
        # that held some before go first; once they explain every extra line, stop looking.
        needle = self.term.decode()
        extra = np.zeros(n, dtype=np.int64)
        missing = terms - n
        order = self.multiline + [k for k in self.keys if k not in self.multiline]
        for key in order:
            if missing == 0:
                break
            counts = pc.fill_null(pc.count_substring(table.column(key), needle), 0)
            found = pc.sum(counts).as_py() or 0
            if found:
                extra += counts.to_numpy().astype(np.int64)
                missing -= found
                if key not in self.multiline:
                    self.multiline.append(key)
        if missing != 0:
            return None  # blank lines or something odd: let the csv module count
        return first_line + np.concatenate(([0], np.cumsum(1 + extra)[:-1]))

    def _python(self, block: bytes, first_line: int) -> Batch:
        csv.field_size_limit(1 << 30)  # a long free-text field is still a field
        text, _ = _decode(block)
        width = len(self.keys)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        rejects: list[str | None] = []
        raws: list[str | None] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        consumed = 0
        for row in reader:
            start = first_line + consumed
            consumed = reader.line_num
            if not row:
                continue  # a blank line is not a record
            lines.append(start)
            if len(row) > width and not any(f.strip() for f in row[width:]):
                row = row[:width]  # trailing empty fields (a spreadsheet's trailing commas)
            if len(row) == width:
                rejects.append(None)
                raws.append(None)
            else:
                rejects.append(f"unreadable line: {len(row)} fields, expected {width}")
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="", delimiter=self.delimiter).writerow(row)
                raws.append(buffer.getvalue())
                row = (row + [""] * width)[:width]
            for values, value in zip(columns, row, strict=True):
                values.append(value if value != "" else None)
        table = pa.table({k: pa.array(v, pa.string()) for k, v in zip(self.keys, columns, strict=True)})
        return Batch(
            table,
            np.asarray(lines, dtype=np.int64),
            reject=rejects if any(rejects) else None,
            raw_text=raws,
            names=self.names,
        )


# --- JSON -----------------------------------------------------------------------------------


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class _RawRecords(Sequence):
    """Per record: its raw text, JSON-encoded only when asked for (rarely: rejected rows)."""

    def __init__(self, records: list[tuple[int, dict | None, str | None]]):
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i):
        _, record, raw = self.records[i]
        return raw if record is None else json.dumps(record, ensure_ascii=False)


def _text_column(values: list) -> pa.Array:
    try:
        return pa.array(values, pa.string())  # the common case: text and nulls only
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_as_text(v) for v in values], pa.string())


def _record_batch(records: list[tuple[int, dict | None, str | None]]) -> Batch:
    dicts = [record or {} for _, record, _ in records]
    columns: dict[str, pa.Array] = {}
    names: dict[str, str] = {}
    for name in dict.fromkeys(chain.from_iterable(dicts)):  # every field, in order first seen
        key = header_key(name) or name
        values = _text_column([d.get(name) for d in dicts])
        if key in columns:  # the same field under two spellings: the first one present wins
            values = pc.coalesce(columns[key], values)
        else:
            names[key] = name
        columns[key] = values
    n = len(records)
    table = pa.table(columns) if columns else pa.table({"_empty": pa.nulls(n, pa.string())})
    rejects = [None if record is not None else "unreadable record" for _, record, _ in records]
    return Batch(
        table,
        np.asarray([line for line, _, _ in records], dtype=np.int64),
        reject=rejects if any(rejects) else None,
        raw_text=_RawRecords(records),
        names=tuple(names.values()),
    )


def _line_record(line: str) -> dict | None:
    body = line.strip().lstrip("[").rstrip("]").strip().strip(",").strip()
    if not body:
        raise ValueError("no record on this line")
    record = json.loads(body)
    if not isinstance(record, dict):
        raise ValueError("not an object")
    return record


def _json_lines_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, each decoded as UTF-8, else cp1252, else latin-1."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text, _ = _decode(raw[3:] if number == 1 and raw.startswith(b"\xef\xbb\xbf") else raw)
            yield number, text


_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _max_depth(data: bytes) -> int:
    best = depth = 0
    for start in range(0, len(data), 1 << 22):
        piece = np.frombuffer(data, np.uint8, count=min(1 << 22, len(data) - start), offset=start)
        levels = depth + np.cumsum(_DEPTH_STEP[piece], dtype=np.int64)
        best, depth = max(best, int(levels.max())), int(levels[-1])
    return best


def check_json_depth(data: bytes, name: str) -> None:
    """InputError when JSON in DATA nests deeper than MAX_JSON_DEPTH: before any parser sees it
    (the json module gives up with a RecursionError, pyarrow's reader crashes the process)."""
    if _max_depth(data) <= MAX_JSON_DEPTH:
        return
    if _max_depth(_JSON_STRING.sub(b'""', data)) > MAX_JSON_DEPTH:  # brackets in text are text
        raise InputError(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not an "
                         "export this reads")


def _json_batches(path: Path, block_bytes: int) -> Iterator[Batch]:
    first = next((t for _, t in _json_lines_of(path) if t.strip().strip("[").strip()), "")
    check_json_depth(first.encode("utf-8"), path.name)
    try:
        _line_record(first)
    except ValueError:
        yield from _json_document(path)  # pretty-printed: one document
    else:
        yield from _json_lines(path, block_bytes)


def _json_lines(path: Path, block_bytes: int) -> Iterator[Batch]:
    """One record per line: SODA's `[{...}\\n,{...}\\n]` and newline-delimited JSON.

    Blocks of whole lines are parsed by pyarrow's JSON reader; a block it cannot read (a broken
    line, blank lines, a field that is a number here and text there, not UTF-8) is read line by
    line with the json module, and a line that is not a record comes out as an unreadable
    record (with its text), not skipped.
    """
    with path.open("rb") as handle:
        offset = 3 if handle.read(3) == b"\xef\xbb\xbf" else 0
        line = 1
        long_lines: list[Batch] = []  # yielded with the next batch, which has the columns
        for block in _blocks(handle, offset, b"\n", block_bytes, quoted=False):
            if isinstance(block, _LongLine):
                long_lines.append(block.batch(line))
                line += block.terms
                continue
            check_json_depth(block.bytes(), path.name)
            batch = _json_arrow(block, line) or _json_python(block, line)
            line += block.terms
            if batch.num_rows:
                yield _with_rows(batch, long_lines)
                long_lines = []
        if long_lines:
            yield _with_rows(long_lines[0], long_lines[1:])


def _with_rows(batch: Batch, extra: list[Batch]) -> Batch:
    """BATCH and the one-row batches EXTRA (rejected long lines), with BATCH's columns."""
    if not extra:
        return batch
    n = batch.num_rows
    rows = [pa.table({k: pa.nulls(1, t) for k, t in zip(
        batch.table.column_names, batch.table.schema.types, strict=True)}) for _ in extra]
    rejects = (batch.reject or [None] * n) + [r for b in extra for r in b.reject or [None]]
    raws = list(batch.raw_text or [None] * n) + [r for b in extra for r in b.raw_text or [None]]
    return Batch(
        pa.concat_tables([batch.table, *rows]),
        np.concatenate([batch.line, *(b.line for b in extra)]),
        reject=rejects,
        raw_text=raws,
        names=batch.names,
    )


def _json_arrow(block: _Block, first_line: int) -> Batch | None:
    data = block.bytes()
    ndjson = data.replace(b"\n,", b"\n").replace(b",\n", b"\n").replace(b",\r\n", b"\r\n")
    ndjson = ndjson.lstrip(b"[,").rstrip()
    ndjson = (ndjson[:-1] if ndjson.endswith(b"]") else ndjson) + b"\n"
    try:
        table = pajson.read_json(
            io.BytesIO(ndjson), read_options=pajson.ReadOptions(use_threads=False)
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != block.terms:  # blank lines, a bracket alone on its line...
        return None
    columns: dict[str, pa.ChunkedArray] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        key = header_key(name) or name
        values = pa.chunked_array([_json_text(c) for c in column.chunks], pa.string())
        columns[key] = pc.coalesce(columns[key], values) if key in columns else values
    return Batch(
        pa.table(columns),
        first_line + np.arange(table.num_rows, dtype=np.int64),
        raw_text=_Lines(data),
        names=tuple(table.column_names),
    )


def _json_text(values: pa.Array) -> pa.Array:
    """Any JSON value pyarrow inferred, back to text: numbers and booleans as written, objects
    and arrays as JSON-like text (enough for the location parsers, not for json.loads)."""
    kind = values.type
    if pa.types.is_string(kind):
        return values
    if pa.types.is_null(kind):
        return pa.nulls(len(values), pa.string())
    if pa.types.is_struct(kind):
        parts = []
        for i, child in enumerate(kind):
            text = _json_text(pc.struct_field(values, [i]))
            if pa.types.is_string(child.type) or pa.types.is_timestamp(child.type):
                text = pc.binary_join_element_wise('"', text, '"', "")
            part = pc.binary_join_element_wise(f', "{child.name}": ', text, "")
            parts.append(pc.fill_null(part, ""))  # (null_handling="skip" drops all-null rows)
        body = pc.replace_substring_regex(pc.binary_join_element_wise(*parts, ""), "^, ", "")
        whole = pc.binary_join_element_wise("{", body, "}", "")
        return pc.if_else(values.is_valid(), whole, pa.scalar(None, pa.string()))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False)
        offsets = pa.array(np.concatenate(([0], np.cumsum(lengths))).astype(np.int32))
        items = pa.ListArray.from_arrays(offsets, _json_text(pc.list_flatten(values)))
        whole = pc.binary_join_element_wise("[", pc.binary_join(items, ", "), "]", "")
        return pc.if_else(values.is_valid(), whole, pa.scalar(None, pa.string()))
    return values.cast(pa.string())


class _Lines(Sequence):
    """The lines of a block, split only when one is asked for (rarely: rejected rows)."""

    def __init__(self, data: bytes):
        self.data = data
        self._lines: list[bytes] | None = None

    def __len__(self) -> int:
        return self.data.count(b"\n")

    def __getitem__(self, i):
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        return _decode(self._lines[i].rstrip(b"\r"))[0]


def _json_python(block: _Block, first_line: int) -> Batch:
    records: list[tuple[int, dict | None, str | None]] = []
    for number, raw in enumerate(block.bytes().split(b"\n")[: block.terms], start=first_line):
        line, _ = _decode(raw)
        if not line.strip().strip("[],").strip():
            continue
        try:
            records.append((number, _line_record(line), None))
        except ValueError:
            records.append((number, None, line.rstrip("\r")))
    return _record_batch(records)


def _json_document(path: Path) -> Iterator[Batch]:
    """A whole JSON document: an array of records, or a GeoJSON FeatureCollection. `_line` is
    then the record's position in the array."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    check_json_depth(data, path.name)
    text, _ = _decode(data)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path.name}: not readable JSON ({exc})") from exc
    if isinstance(document, dict) and isinstance(document.get("features"), list):
        document = [
            {**(f.get("properties") or {}), "geometry": f.get("geometry")}
            for f in document["features"]
            if isinstance(f, dict)
        ]
    if not isinstance(document, list):
        raise InputError(f"{path.name}: JSON is not a list of records")
    for start in range(0, len(document), JSON_BATCH_ROWS):
        chunk = document[start:start + JSON_BATCH_ROWS]
        yield _record_batch(
            [
                (start + i, r, None) if isinstance(r, dict) else (start + i, None, json.dumps(r))
                for i, r in enumerate(chunk, start=1)
            ]
        )


# --- from mapped fields to the canonical frame ----------------------------------------------


@dataclass(frozen=True)
class TabularAdapter:
    """An adapter made of a batch mapper: `read` yields canonical frames (see sources.base)."""

    name: str
    map_batch: Callable[[Batch, str], dict[str, pa.Array | pa.ChunkedArray]]
    layouts: Mapping[int, Sequence[str]] = field(default_factory=dict)

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        path = Path(path)
        source = f"{self.name}:{path.name}"
        for batch in prefetched(read_batches(path, layouts=self.layouts)):
            yield canonical_frame(batch, self.map_batch(batch, timezone), source)


def canonical_frame(
    batch: Batch, fields: Mapping[str, pa.Array | pa.ChunkedArray | None], source: str
) -> pd.DataFrame:
    """The pandas frame for a mapped batch, with `_line`, `_reject` and `_raw`.

    `_raw` is filled only where the record will be rejected (no id, no parseable created_at, or
    an unreadable line): it is only ever shown in quarantine, and re-joining every row would cost
    as much as reading the file.
    """
    n = batch.num_rows
    columns = {name: values for name, values in fields.items() if values is not None}
    columns["source"] = pa.repeat(pa.scalar(source, pa.string()), n)
    frame = pa.table(columns).to_pandas()
    frame[LINE] = batch.line
    reject = batch.reject if batch.reject is not None else [None] * n
    frame[REJECT] = pd.Series(reject, dtype="object", index=frame.index)
    missing = np.zeros(n, dtype=bool)
    for name in ("request_id", "created_at"):
        if name in frame:
            missing |= frame[name].isna().to_numpy()
    missing |= frame[REJECT].notna().to_numpy()
    raw = pd.Series([None] * n, dtype="object", index=frame.index)
    rows = np.flatnonzero(missing)
    if len(rows):
        raw.iloc[rows] = batch.raw(rows)
    frame[RAW] = raw
    return frame
