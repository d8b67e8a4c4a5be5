"""Read queries on a published snapshot outside the app (command line, demo, scripts): one
locked-down read-only connection, and a query function of the shape the core's builders take
(`query(name, **params)`), as the app's data layer gives them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot, read_info


@contextmanager
def snapshot_queries(path: Path | str, access: str) -> Iterator[tuple[dict, Callable[..., pd.DataFrame]]]:
    """(the snapshot's info, query function) for the snapshot at `path`; `access` is "public" or
    "internal" (which folder of read queries may run)."""
    con = connect_snapshot(path)
    try:
        info = read_info(con)

        def query(name: str, **params: object) -> pd.DataFrame:
            return get_query(access, name).run(con, params)

        yield info, query
    finally:
        con.close()
