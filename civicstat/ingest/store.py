"""The city's writable store (store.duckdb): latest state of every request, quarantine, ingest runs."""

from __future__ import annotations

from pathlib import Path

import duckdb

from civicstat.core.schema import requests_ddl

STORE_EXTRA_COLUMNS = "flags VARCHAR[], run_id INTEGER"

QUARANTINE_DDL = """
create table if not exists quarantine (
    run_id INTEGER,
    file VARCHAR,
    line BIGINT,
    reason VARCHAR,
    raw VARCHAR
)
"""

INGEST_RUNS_DDL = """
create table if not exists ingest_runs (
    run_id INTEGER primary key,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    source VARCHAR,
    files VARCHAR[],
    count_read BIGINT,
    count_inserted BIGINT,
    count_updated BIGINT,
    count_unchanged BIGINT,
    count_rejected BIGINT,
    rejected_by_reason JSON
)
"""


def connect_store(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the writable store, with its tables in place."""
    con = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
    create_store_tables(con)
    return con


def create_store_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store's tables if they do not exist yet."""
    con.execute(requests_ddl("requests", STORE_EXTRA_COLUMNS))
    con.execute(QUARANTINE_DDL)
    con.execute(INGEST_RUNS_DDL)
