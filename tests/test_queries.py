"""The query runner: headers are read and enforced; every shipped query parses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from civicstat.serve.queries import ACCESS_LEVELS, QueryError, get_query, load_queries, parse_query


def write(tmp_path: Path, text: str, access: str = "public") -> Path:
    folder = tmp_path / access
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "example.sql"
    path.write_text(text)
    return path


HEADER = (
    "-- returns: rows\n"
    "-- params: start TIMESTAMP, department VARCHAR NULL\n"
    "-- access: public\n"
    "select $start as s, $department as d\n"
)


def test_every_shipped_query_has_a_valid_header():
    for access in ACCESS_LEVELS:
        for query in load_queries(access).values():
            assert query.returns and query.access == access
    assert "overview_kpis" in load_queries("public")


def test_header_is_parsed(tmp_path):
    query = parse_query(write(tmp_path, HEADER), "public")
    assert [(p.name, p.sql_type, p.nullable) for p in query.params] == [
        ("start", "TIMESTAMP", False),
        ("department", "VARCHAR", True),
    ]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"start": dt.datetime(2024, 1, 1)}, "missing parameters ['department']"),
        ({"start": dt.datetime(2024, 1, 1), "department": None, "x": 1}, "unexpected ['x']"),
        ({"start": None, "department": None}, "may not be NULL"),
        ({"start": "2024-01-01", "department": None}, "must be TIMESTAMP"),
        ({"start": dt.datetime(2024, 1, 1), "department": 3}, "must be VARCHAR"),
    ],
)
def test_calls_that_do_not_match_the_header_fail_loudly(tmp_path, values, message):
    query = parse_query(write(tmp_path, HEADER), "public")
    with pytest.raises(QueryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        query.check(values)


def test_header_must_declare_exactly_the_parameters_the_sql_uses(tmp_path):
    text = HEADER.replace("$department as d", "$department as d, $district as x")
    with pytest.raises(QueryError, match="SQL uses"):
        parse_query(write(tmp_path, text), "public")


def test_access_must_match_the_folder(tmp_path):
    with pytest.raises(QueryError, match="access is 'public'"):
        parse_query(write(tmp_path, HEADER, "internal"), "internal")


def test_missing_header_line_is_an_error(tmp_path):
    with pytest.raises(QueryError, match="returns"):
        parse_query(write(tmp_path, "-- params: none\n-- access: public\nselect 1"), "public")


def test_unknown_query_name():
    with pytest.raises(QueryError, match="no public query named"):
        get_query("public", "drop_everything")
