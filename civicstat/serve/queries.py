"""The query runner: load queries/<access>/*.sql, check parameters against each header, bind, run.

Each .sql file starts with a header of comment lines:

    -- returns: one row per period with the Overview's headline figures
    -- params: start TIMESTAMP, end TIMESTAMP, department VARCHAR NULL
    -- access: public

Every value is bound (`$start`), never spliced into the SQL text. The runner refuses a call
whose parameters do not match the header exactly (names, types, NULL only where declared).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from civicstat import PROJECT_DIR

QUERIES_DIR = PROJECT_DIR / "queries"
ACCESS_LEVELS = ("public", "internal")

# Python types accepted for each declared SQL type.
PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "TIMESTAMP": (dt.datetime,),
    "DATE": (dt.date,),
    "VARCHAR": (str,),
    "INTEGER": (int,),
    "DOUBLE": (int, float),
    "BOOLEAN": (bool,),
}
_HEADER_LINE = re.compile(r"^--\s*(\w+):\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s+([A-Z]+(?:\[\])?)(\s+NULL)?$")


class QueryError(ValueError):
    """A query file is malformed, or a call does not match its header."""


@dataclass(frozen=True)
class Param:
    name: str
    sql_type: str
    nullable: bool


@dataclass(frozen=True)
class Query:
    name: str
    access: str
    returns: str
    params: tuple[Param, ...]
    sql: str

    def check(self, values: dict[str, object]) -> None:
        """Raise QueryError unless `values` match the declared parameters exactly."""
        declared = {p.name for p in self.params}
        missing, extra = declared - values.keys(), values.keys() - declared
        if missing or extra:
            raise QueryError(
                f"{self.access}/{self.name}: missing parameters {sorted(missing)}, "
                f"unexpected {sorted(extra)}"
            )
        for param in self.params:
            value = values[param.name]
            if value is None:
                if not param.nullable:
                    raise QueryError(f"{self.name}: ${param.name} may not be NULL")
                continue
            accepted = PARAM_TYPES[param.sql_type]
            wrong_bool = isinstance(value, bool) and bool not in accepted
            if not isinstance(value, accepted) or wrong_bool:
                raise QueryError(
                    f"{self.name}: ${param.name} must be {param.sql_type}, "
                    f"got {type(value).__name__}"
                )

    def run(self, con: duckdb.DuckDBPyConnection, values: dict[str, object]) -> pd.DataFrame:
        """Check the parameters, then run on a fresh cursor of `con` and fetch the whole result."""
        self.check(values)
        cursor = con.cursor()
        try:
            return cursor.execute(self.sql, values).df()
        finally:
            cursor.close()


def read_header(text: str) -> dict[str, str]:
    """The `-- key: value` lines a .sql file starts with (read queries and publish-time models
    alike); comment lines that are not `key: value` are prose."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER_LINE.match(line.strip())
        if match:
            header[match.group(1)] = match.group(2).strip()
    return header


def parse_param(item: str) -> Param | None:
    """One declared parameter, `name TYPE` or `name TYPE NULL`; None if it cannot be read."""
    match = _PARAM.match(item)
    return Param(match.group(1), match.group(2), bool(match.group(3))) if match else None


def parse_query(path: Path, access: str) -> Query:
    """Read one .sql file and its header."""
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    for key in ("returns", "params", "access"):
        if key not in header:
            raise QueryError(f"{path}: header line '-- {key}:' is missing")
    if header["access"] != access:
        raise QueryError(f"{path}: access is {header['access']!r} but the file is in {access}/")
    params = []
    for item in filter(None, (p.strip() for p in header["params"].split(","))):
        if item.lower() == "none":
            continue
        param = parse_param(item)
        if param is None or param.sql_type not in PARAM_TYPES:
            raise QueryError(f"{path}: cannot read parameter {item!r}")
        params.append(param)
    used = set(re.findall(r"\$(\w+)", text))
    declared = {p.name for p in params}
    if used != declared:
        raise QueryError(
            f"{path}: header declares {sorted(declared)} but the SQL uses {sorted(used)}"
        )
    return Query(path.stem, access, header["returns"], tuple(params), text)


@cache
def load_queries(access: str, root: Path = QUERIES_DIR) -> dict[str, Query]:
    """All queries of one access level, by name."""
    if access not in ACCESS_LEVELS:
        raise QueryError(f"unknown access level {access!r}")
    return {p.stem: parse_query(p, access) for p in sorted((root / access).glob("*.sql"))}


def get_query(access: str, name: str) -> Query:
    """One query by access level and name; QueryError if there is none."""
    queries = load_queries(access)
    if name not in queries:
        raise QueryError(f"no {access} query named {name!r}")
    return queries[name]
