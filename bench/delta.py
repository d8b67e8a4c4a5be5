"""A day's delta into a large city: ingest plus publish (issue 14, item 3: incremental publish).

    .venv/bin/python -m bench.delta [--rows 1000000] [--delta 10000] [--verify]

The city bench/work/<rows> (bench.run.city_for) is copied to bench/work/delta-<rows> without its
snapshots and without city.toml's fixed `as_of` (so the as-of moves with the data, as a real
city's does), and published in full: the starting point, timed. Then a delta of `delta` records
is loaded with `ingest_files` as `civicstat ingest` loads a file, and published: 70% new requests
made during the day after the data's last day (half of them closed that day), 30% closures of
requests open before it. Timed: ingest (the pipeline and its commit), publish (incremental), and
both. With --verify, a full publish of the same store afterwards checks the incremental one: the
same content hash and the same row count in every table of both snapshots (the exact, table by
table comparison is tests/test_incremental_publish.py's, on small cities).
"""

# ruff: noqa: S608 (SQL from constant column names)
from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent
WORK = PROJECT / "bench" / "work"
COPIED = ("city.toml", "boundaries", "store.duckdb")
CARRIED = ("department", "request_type", "category", "channel", "lat", "lon", "address",
           "description")


class DeltaAdapter:
    """Reads the delta's Parquet file as canonical frames."""

    name = "delta"

    def read(self, path: Path, timezone: str) -> Iterator[pd.DataFrame]:
        frame = pd.read_parquet(path)
        for start in range(0, len(frame), 5_000):
            yield frame.iloc[start:start + 5_000].reset_index(drop=True)


def copy_city(source: Path, target: Path) -> Path:
    """The city folder's store, configuration and boundaries; city.toml without `as_of`."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name)
        else:
            shutil.copyfile(path, target / name)
    toml = target / "city.toml"
    toml.write_text("".join(line for line in toml.read_text().splitlines(keepends=True)
                            if not line.startswith("as_of")), encoding="utf-8")
    return target


def make_delta(store: Path, path: Path, records: int, seed: int = 14) -> dict:
    """Write the delta as Parquet: new requests of the next day and closures of open ones."""
    import duckdb

    rng = np.random.default_rng(seed)
    closures = int(records * 0.3)
    with duckdb.connect(str(store), read_only=True) as con:
        (last,) = con.execute("select max(created_at) from requests").fetchone()
        count = con.execute("select count(*) from requests").fetchone()[0]
        opened = con.execute(
            f"select request_id, created_at, {', '.join(CARRIED)} from requests "
            "where status = 'open' order by hash(request_id, $seed) limit $n",
            {"n": closures, "seed": seed}).df()
        templates = con.execute(
            f"select {', '.join(CARRIED)} from requests order by hash(request_id, $seed) "
            "limit $n", {"n": records - len(opened), "seed": seed + 1}).df()
    day = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    seconds = lambda n: pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")  # noqa: E731
    closed = opened.assign(
        closed_at=day + seconds(len(opened)), status="closed", closure="resolved",
        resolution="Done.")
    closed["updated_at"] = closed["closed_at"]
    new = templates.assign(
        request_id=[f"DELTA-{i:08d}" for i in range(len(templates))],
        created_at=(day + seconds(len(templates))).sort_values().to_numpy(), status="open")
    done = rng.random(len(new)) < 0.5
    new["closed_at"] = pd.NaT
    new.loc[done, "closed_at"] = new.loc[done, "created_at"] + pd.to_timedelta(
        rng.integers(600, 20_000, int(done.sum())), unit="s")
    new["closed_at"] = new["closed_at"].where(new["closed_at"] < day + pd.Timedelta(days=1),
                                              day + pd.Timedelta(hours=23, minutes=59))
    new.loc[~done, "closed_at"] = pd.NaT
    new.loc[done, "status"] = "closed"
    new.loc[done, "closure"] = "resolved"
    new["updated_at"] = new["closed_at"].fillna(new["created_at"])
    delta = pd.concat([new, closed], ignore_index=True)
    delta.to_parquet(path, index=False)
    return {"records": len(delta), "new": len(new), "closures": len(closed), "store_rows": count,
            "day": str(day.date())}


def run_delta(rows: int, records: int = 10_000, *, verify: bool = False, keep: bool = False,
              results: dict | None = None) -> dict:
    """Copy the bench city of `rows`, publish it in full, load a delta and publish again."""
    from bench.run import city_for
    from civicstat.core.city import load_city
    from civicstat.ingest.pipeline import ingest_files
    from civicstat.publish.build import publish

    source = city_for(rows, results if results is not None else {}, publish_again=False)
    root = copy_city(source, WORK / f"delta-{rows}")
    try:
        city = load_city(root)
        started = time.perf_counter()
        first = publish(city)
        full_s = time.perf_counter() - started
        delta_file = root / "delta.parquet"
        described = make_delta(city.store_path, delta_file, records)
        started = time.perf_counter()
        with _table_clock() as tables:
            summary = ingest_files(city, [delta_file], DeltaAdapter())
        total_s = time.perf_counter() - started
        info = summary.published or {}
        outcome = {
            "rows": rows, **described,
            "full_publish_s": round(full_s, 1), "full_mode": first["publish_mode"],
            "ingest_s": round(summary.seconds, 1),
            "publish_s": round(total_s - summary.seconds, 1),
            "ingest_and_publish_s": round(total_s, 1),
            "inserted": summary.inserted, "updated": summary.updated,
            "publish_mode": info.get("publish_mode"), "publish_reason": info.get("publish_reason"),
            "publish_steps_s": info.get("publish_seconds"),
            "slowest_tables_s": dict(sorted(tables.items(), key=lambda kv: -kv[1])[:8]),
        }
        if verify:
            outcome["verified"] = _verify(city, info)
        return outcome
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _table_clock():
    """Seconds each table of an incremental publish took (snapshot.table -> s)."""
    from civicstat.publish import incremental

    tables: dict[str, float] = {}
    table = incremental.Updater._table

    def timed_table(self, model):
        started = time.perf_counter()
        table(self, model)
        tables[f"{self.snapshot}.{model.name}"] = round(time.perf_counter() - started, 2)

    incremental.Updater._table = timed_table
    try:
        yield tables
    finally:
        incremental.Updater._table = table


def _verify(city, info: dict) -> dict:
    """A full publish of the same store: the same content hash and row counts table by table."""
    import duckdb

    from civicstat.publish.build import publish

    counts = {}
    for audience in ("internal", "public"):
        path = getattr(city, f"{audience}_path").resolve()
        counts[audience] = _row_counts(duckdb, path)
    started = time.perf_counter()
    full = publish(city, full=True)
    seconds = time.perf_counter() - started
    differing = [
        f"{audience}.{table}"
        for audience in ("internal", "public")
        for table, n in _row_counts(duckdb, getattr(city, f"{audience}_path").resolve()).items()
        if counts[audience].get(table) != n
    ]
    return {"content_hash_equal": full["content_hash"] == info.get("content_hash"),
            "tables_with_other_counts": differing, "full_publish_after_s": round(seconds, 1)}


def _row_counts(duckdb, path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()]
        return {n: con.execute(f'select count(*) from "{n}"').fetchone()[0]  # noqa: S608
                for n in names if n != "snapshot_info"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--delta", type=int, default=10_000)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep bench/work/delta-<rows>")
    args = parser.parse_args()
    print(json.dumps(run_delta(args.rows, args.delta, verify=args.verify, keep=args.keep),
                     indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
