"""Hostile files through the real command line (issue 16, items 4 and 8).

One table of cases: each writes a file into tmp_path and says what must happen. A run either
reads the records right (how many read, how many rejected) or ends with exit status 2 and one
clean, printable line on stderr starting `civicstat: error: `. Never a traceback, never raw bytes
of the file on the terminal. Whenever a run adds nothing, the city folder (store and snapshots)
is byte for byte unchanged, no ingest run is recorded and nothing is republished.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from civicstat.cli.main import main

from citykit import make_city, stub_publish

HEADER = "Unique Key,Created Date,Closed Date,Agency,Complaint Type,Status,Latitude,Longitude"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"


def row(key: int, kind: str = "Pothole") -> str:
    return f"{key},01/0{key % 9 + 1}/2024 09:00:00 AM,,DOT,{kind},Open,40.05,-73.95"


def nyc(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


GOOD = nyc(row(101), row(102))


def text(content: str | bytes, name: str = "export.csv", encoding: str = "utf-8"):
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path
    return write


def zipped(tmp: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export.csv", GOOD)
    return text(buffer.getvalue())(tmp)


def many_columns(tmp: Path) -> Path:
    names = ",".join(f"c{i}" for i in range(100_000))
    return text(HEADER + "," + names + "\n" + row(101) + "," * 100_000 + "\n")(tmp)


BIG = 50 * 1024 * 1024


def one_long_line(tmp: Path) -> Path:
    """A good record, a record of 50 MB on one line, a good record."""
    path = tmp / "export.csv"
    with path.open("wb") as handle:
        handle.write((HEADER + "\n" + row(101) + "\n").encode())
        handle.write(b"103,01/05/2024 09:00:00 AM,,DOT,")
        chunk = b"x" * (1 << 20)
        for _ in range(BIG // len(chunk)):
            handle.write(chunk)
        handle.write(b",Open,40.05,-73.95\n" + (row(102) + "\n").encode())
    return path


def deep_json(opener: str = "[", closer: str = "]", name: str = "export.json"):
    return text(opener * 100_000 + closer * 100_000, name)


def open311_json(records) -> str:
    return json.dumps(records)


def request(i: int) -> dict:
    return {"service_request_id": str(i), "requested_datetime": "2024-03-01T09:00:00Z",
            "status": "open", "service_name": "Pothole", "lat": 40.05, "long": -73.95}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<service_requests><request><service_request_id>&lol9;</service_request_id></request>
</service_requests>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<service_requests><request><service_request_id>1</service_request_id>
<description>&secret;</description></request></service_requests>
"""

XML_OK = "".join([
    '<?xml version="1.0" encoding="utf-8"?><service_requests>',
    *(f"<request><service_request_id>{i}</service_request_id><status>open</status>"
      f"<requested_datetime>2024-03-01T09:00:00Z</requested_datetime><lat>40.05</lat>"
      f"<long>-73.95</long></request>" for i in (201, 202)),
    "</service_requests>",
])


@dataclass(frozen=True)
class Read:
    """Exit 0 with these counts (`--json`)."""

    read: int
    rejected: int = 0
    inserted: int | None = None  # default: read - rejected


@dataclass(frozen=True)
class Refused:
    """Exit 2 with one clean line holding `needle`."""

    needle: str


@dataclass(frozen=True)
class Case:
    kind: str
    write: Callable[[Path], Path]
    outcome: Read | Refused
    source: str = "nyc"
    check: Callable[[Path], None] | None = None  # more checks on the store, given its path
    real_publish: bool = False


def _quarantine_holds_an_excerpt(store: Path) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        [(reason, length)] = con.execute(
            "select reason, max(length(raw)) from quarantine where line = 3 group by all"
        ).fetchall()
    finally:
        con.close()
    assert reason == "record_too_long" and length <= 1024, (reason, length)


def _json_bytes(document) -> bytes:
    return json.dumps(document).encode()


CASES = [
    Case("empty file", text(b""), Read(0)),
    Case("blank lines only", text("\n\r\n  \n"), Read(0)),
    Case("header only", text(HEADER + "\n"), Read(0)),
    Case("header only, no line end", text(HEADER), Read(0)),
    Case("good file", text(GOOD), Read(2)),
    Case("CRLF line ends", text(nyc(row(101), row(102), end="\r\n")), Read(2)),
    Case("UTF-8 with BOM", text("\ufeff" + GOOD), Read(2)),
    Case("truncated last line", text(nyc(row(101), row(102))[:-30]), Read(2, rejected=1)),
    Case("truncated inside a quote", text(nyc(row(101), '102,"01/02/2024')), Read(2, rejected=1)),
    Case("binary garbage", text(bytes(range(256)) * 64), Refused("not a text file")),
    Case("ZIP named .csv", zipped, Refused("ZIP archive")),
    Case("gzip named .csv", text(gzip.compress(GOOD.encode())), Refused("gzip")),
    Case("UTF-16 LE with BOM", text(GOOD, encoding="utf-16"), Read(2)),
    Case("UTF-16 BE with BOM", text("\ufeff" + GOOD, encoding="utf-16-be"), Read(2)),
    Case("UTF-16 LE without BOM", text(GOOD, encoding="utf-16-le"), Read(2)),
    Case("UTF-16 BE without BOM", text(GOOD, encoding="utf-16-be"), Read(2)),
    Case("cp1252", text(nyc(row(101, "Bruit \u00e9lev\u00e9"), row(102, "Caf\u00e9")),
                        encoding="cp1252"), Read(2)),
    Case("NUL bytes in a field", text(nyc(row(101, "Pot\x00hole"), row(102))), Read(2)),
    Case("NULs only", text(b"\x00" * 10_000), Refused("not a text file")),
    Case("100,000 columns", many_columns, Refused("100,008 columns")),
    Case("a 50 MB line", one_long_line, Read(3, rejected=1),
         check=_quarantine_holds_an_excerpt),
    Case("repeated header names",
         text(nyc("101,01/02/2024 09:00:00 AM,,DOT,Pothole,Open,40.05,-73.95,x",
                  "102,01/03/2024 09:00:00 AM,,DOT,Pothole,Open,40.05,-73.95,y",
                  header=HEADER + ",Status")), Read(2)),
    Case("header field over 128 KB", text(nyc(row(101), header="A" * 200_000 + "," + HEADER)),
         Refused("column name")),
    Case("data field over 128 KB", text(nyc(row(101, "B" * 200_000), row(102))), Read(2)),
    Case("terminal escapes in the header", text(nyc(row(101), header=ESCAPES + ",b,c")),
         Refused("not a nyc export")),
    Case("JSON nested 100,000 deep", deep_json(), Refused("nested")),
    Case("JSON object nested 100,000 deep", deep_json('{"a":', "}"), Refused("nested")),
    Case("JSON lines, a record nested deep",
         text(json.dumps({"unique_key": "1"}) + "\n" + '{"a":' * 100_000 + "1" + "}" * 100_000
              + "\n", "export.json"), Refused("nested")),
    Case("JSON lines with a 2 MB line", text("\n".join(json.dumps(
        {"unique_key": str(k), "created_date": "2024-01-02T09:00:00.000", "agency": "DOT",
         "complaint_type": kind, "latitude": "40.05", "longitude": "-73.95"})
        for k, kind in ((101, "Pothole"), (103, "x" * (2 << 20)), (102, "Pothole"))) + "\n",
        "export.json"), Read(3, rejected=1)),
    Case("JSON that is not an export, one line", text('{"issues": [1, 2]}', "export.json"),
         Refused("not a nyc export")),
    Case("JSON that is not a list of records", text('{\n "issues": [\n  1, 2]\n}', "x.json"),
         Refused("not a list of records")),
    Case("truncated JSON document", text('[\n  {"unique_key": "1",\n', "export.json"),
         Refused("not readable JSON")),
    Case("Open311 JSON", text(open311_json([request(201), request(202)]), "r.json"), Read(2),
         source="open311"),
    Case("non-Open311 JSON to open311", text('{"issues": [{"id": 1}]}', "r.json"),
         Refused("not a GeoReport v2"), source="open311"),
    Case("Open311 list of non-objects", text("[1, \"two\", null, [3]]", "r.json"),
         Refused("not a GeoReport v2"), source="open311"),
    Case("Open311 list with some non-objects",
         text(open311_json([request(201), 7, request(202)]), "r.json"), Read(3, rejected=1),
         source="open311"),
    Case("Open311 JSON nested 100,000 deep", deep_json(name="r.json"), Refused("nested"),
         source="open311"),
    Case("Open311 error with terminal escapes",
         text(open311_json([{"code": 403, "description": ESCAPES + "denied"}]), "r.json"),
         Refused("denied"), source="open311"),
    Case("Open311 XML", text(XML_OK, "r.xml"), Read(2), source="open311"),
    Case("XML bomb (billion laughs)", text(BILLION_LAUGHS, "r.xml"), Refused("entit"),
         source="open311"),
    Case("XML external entity", text(EXTERNAL_ENTITY, "r.xml"), Refused("entit"),
         source="open311"),
    Case("XML not well formed", text("<service_requests><request>", "r.xml"),
         Refused("not readable XML"), source="open311"),
    Case("replay of the loaded file (real publish)", text(nyc(row(1), row(2)), "again.csv"),
         Read(2, inserted=0), real_publish=True),
]


def _folder(root: Path) -> dict[str, str]:
    """Every file under the city folder and its content's hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def _runs(store: Path) -> int:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("select count(*) from ingest_runs").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_hostile_file(tmp_path, capsys, monkeypatch, case):
    published = [] if case.real_publish else stub_publish(monkeypatch)
    city = make_city(tmp_path)
    loaded = tmp_path / "loaded.csv"
    loaded.write_text(nyc(row(1), row(2)), encoding="utf-8")
    assert main(["ingest", str(city.root), str(loaded), "--source", "nyc", "--json"]) == 0
    capsys.readouterr()
    before, runs_before, publishes = _folder(city.root), _runs(city.store_path), len(published)
    path = case.write(tmp_path)

    status = main(["ingest", str(city.root), str(path), "--source", case.source, "--json"])
    out, err = capsys.readouterr()

    assert "Traceback" not in err and "\x1b" not in err + out
    outcome = case.outcome
    if isinstance(outcome, Refused):
        lines = err.splitlines()
        assert status == 2 and len(lines) == 1, (status, err[:500])
        assert lines[0].startswith("civicstat: error: ") and lines[0].isprintable(), lines[0][:500]
        assert len(lines[0]) <= 400, lines[0][:500]
        assert outcome.needle in lines[0], lines[0]
        changed = False
    else:
        assert status == 0, err[:500]
        counts = json.loads(out)
        inserted = outcome.read - outcome.rejected if outcome.inserted is None else outcome.inserted
        assert (counts["read"], counts["rejected"], counts["inserted"]) == (
            outcome.read, outcome.rejected, inserted), counts
        changed = bool(counts["inserted"] or counts["updated"] or counts["rejected"])
        assert counts["changed"] is changed
    if not changed:
        assert _folder(city.root) == before
        assert _runs(city.store_path) == runs_before
        assert len(published) == publishes
    else:
        assert _runs(city.store_path) == runs_before + 1
        assert len(published) == publishes + 1
    if case.check:
        case.check(city.store_path)
