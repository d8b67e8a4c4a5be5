"""Read-only, locked-down connections to a published snapshot, and its version."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

LOCKED_DOWN = {
    "enable_external_access": False,  # no files, no URLs, no ATTACH from SQL
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,  # no SET / RESET afterwards
}


# Bumped whenever the snapshot's tables change shape; an app never reads an older format.
SNAPSHOT_FORMAT = 3


class SnapshotMissing(FileNotFoundError):
    """The snapshot has not been published yet, or was published by an older CivicStat."""


# DuckDB's buffer pool for one snapshot connection: caps the app's memory (it evicts and
# re-reads beyond this). Raise it on a bigger server with CIVICSTAT_DUCKDB_MEMORY=4GB.
DEFAULT_MEMORY_LIMIT = "768MB"


def connect_snapshot(path: Path | str, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open a published snapshot read-only with external access off and configuration locked."""
    path = Path(path).resolve()  # the versioned file the link points at now
    if not path.is_file():
        raise SnapshotMissing(f"{path} does not exist: run `civicstat publish` for this city")
    config: dict[str, object] = dict(LOCKED_DOWN)
    config["memory_limit"] = os.environ.get("CIVICSTAT_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    if threads:
        config["threads"] = threads
    return duckdb.connect(str(path), read_only=True, config=config)


def file_identity(path: Path | str) -> tuple[str, int, int]:
    """(file, inode, mtime) the path leads to now: changes when a new snapshot is swapped in."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    return real, stat.st_ino, stat.st_mtime_ns


def read_info(con: duckdb.DuckDBPyConnection) -> dict:
    """The snapshot_info row as a dict; SnapshotMissing if its format is not this version's."""
    cursor = con.cursor()
    try:
        frame = cursor.execute("select * from snapshot_info").df()
    finally:
        cursor.close()
    info = frame.iloc[0].to_dict()
    if info.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotMissing(
            "the published snapshot comes from an older CivicStat: run `civicstat publish` "
            "for this city again"
        )
    return info
