"""Every CSV the product writes goes through one policy (formulas made inert, numbers kept), and
the registry's other formats still round-trip."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from civicstat.cli.main import main
from civicstat.core.schema import PUBLIC_COLUMN_NAMES
from civicstat.exports import opendata
from civicstat.exports.formats import FORMATS, get_format, inert
from civicstat.ingest.pipeline import ingest_files

from citykit import CENTRES, FrameAdapter, make_city, placeholder_file, stub_publish

HOSTILE = ['=HYPERLINK("http://x")', "@SUM(1)", "+cmd", " =1+1", "|calc"]
NUMBER_TEXT = ["-2", "3.5"]  # numeric-looking text: stays as it is


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_bom(data: bytes) -> None:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"


def column(rows: list[list[str]], name: str) -> list[str]:
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


def assert_inert(cells: list[str]) -> None:
    assert cells[:len(HOSTILE)] == ["'" + value for value in HOSTILE]
    assert cells[len(HOSTILE):] == NUMBER_TEXT


def hostile_records() -> pd.DataFrame:
    """Public records whose text columns carry the hostile cells, numbers in lat / lon."""
    texts = HOSTILE + NUMBER_TEXT
    frame = pd.DataFrame({name: ["x"] * len(texts) for name in PUBLIC_COLUMN_NAMES})
    frame["request_type"] = texts
    frame["created_at"] = pd.Timestamp("2024-03-01 09:30")
    frame["lat"] = [-2.0, 3.5, -0.5, 1e3, 40.1, 40.2, 40.3]
    frame["lon"] = pd.Series([-2, 3, 4, 5, 6, 7, 8], dtype="int64")
    return frame


def test_registry_csv_writer():
    frame = hostile_records()[["request_type", "lat", "lon", "created_at"]]
    frame["count"] = [-2, 3, 0, 1, 2, 3, 4]
    frame["flags"] = [["a", "=b"], [], None, [], [], [], []]
    data = FORMATS["csv"].write(frame)
    rows = parse(data)
    assert_inert(column(rows, "request_type"))
    assert [float(v) for v in column(rows, "lat")[:4]] == [-2.0, 3.5, -0.5, 1000.0]  # unprefixed
    assert column(rows, "count")[0] == "-2" and column(rows, "lon")[0] == "-2"
    assert column(rows, "created_at")[0] == "2024-03-01T09:30:00"
    assert column(rows, "flags")[:3] == ["a; =b", "", ""]  # a list becomes text, not a formula start
    assert_bom(data)


def test_numbers_are_written_unquoted():
    frame = pd.DataFrame({"n": [-2, 3], "x": [3.5, -0.5], "t": ["-2", "1e3"]})
    text = FORMATS["csv"].write(frame).decode("utf-8-sig")
    assert text.splitlines() == ["n,x,t", '-2,3.5,"-2"', '3,-0.5,"1e3"']  # text quoted, unprefixed


@pytest.mark.parametrize("value, expected", [
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("  -cmd", "'  -cmd"), ("a|b", "'a|b"),
    ("-0.5", "-0.5"), ("1e3", "1e3"), ("+2", "+2"), ("-1+1", "'-1+1"), ("plain", "plain"),
    ("", ""), (-2, -2), (3.5, 3.5), (None, None),
])
def test_inert(value, expected):
    assert inert(value) == expected


def test_open_data_csv_file():
    data = opendata.to_file(hostile_records(), "csv")
    rows = parse(data)
    assert rows[0] == list(PUBLIC_COLUMN_NAMES)
    assert_inert(column(rows, "request_type"))
    assert [float(v) for v in column(rows, "lat")[:2]] == [-2.0, 3.5]
    assert column(rows, "lon")[0] == "-2"
    assert_bom(data)


def test_data_dictionary_csv(monkeypatch):
    texts = HOSTILE + NUMBER_TEXT
    notes = dict(zip(PUBLIC_COLUMN_NAMES, texts, strict=False))
    monkeypatch.setattr(opendata, "_NOTES", notes)
    data = opendata.data_dictionary_csv()
    rows = parse(data)
    assert rows[0] == ["column", "type", "meaning", "notes"]
    assert_inert(column(rows, "notes")[:len(texts)])
    assert_bom(data)


def test_quarantine_export(tmp_path, monkeypatch, capsys):
    stub_publish(monkeypatch)
    city = make_city(tmp_path)
    lat, lon = CENTRES["1"]
    records = [{"request_id": None, "created_at": "2024-03-01 09:00", "lat": lat, "lon": lon,
                "_raw": text} for text in HOSTILE + NUMBER_TEXT]
    source = placeholder_file(tmp_path, "input.csv")
    ingest_files(city, [source], FrameAdapter(records))
    out = tmp_path / "rejected.csv"
    assert main(["quarantine", str(city.root), "--out", str(out)]) == 0
    assert "7 rejected records" in capsys.readouterr().out
    rows = parse(out.read_bytes())
    assert rows[0] == ["run_id", "file", "line", "reason", "raw"]
    assert_inert(column(rows, "raw"))
    assert column(rows, "line") == [str(n) for n in range(2, 9)]  # numbers stay numbers
    assert set(column(rows, "reason")) == {"no_id"}
    assert set(column(rows, "file")) == {str(source)}
    assert_bom(out.read_bytes())


def test_parquet_round_trips():
    frame = hostile_records()
    back = pd.read_parquet(io.BytesIO(opendata.to_file(frame, "parquet")))
    pd.testing.assert_frame_equal(back, frame[list(PUBLIC_COLUMN_NAMES)], check_dtype=False)
    assert back["request_type"].tolist() == HOSTILE + NUMBER_TEXT  # a typed file: values as they are


def test_registry_shape():
    for name, form in FORMATS.items():
        assert form.extension == name and form.mime and callable(form.write)
        assert form.file_name("requests") == f"requests.{name}"
    assert FORMATS["csv"].mime == "text/csv"
    with pytest.raises(ValueError, match="unknown format"):
        get_format("xlsx")
