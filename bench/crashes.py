"""kill -9 at random points of ingest and of publish (issue 16, "Crashes").

    .venv/bin/python -m bench.crashes [--rows 300000] [--trials 20] [--seed 1]

A city (New York's council districts from ../shared) is loaded with a synthetic NYC-portal CSV
and published: the base. An uninterrupted `civicstat ingest` of a second file (updates to half
the base and new requests) and a `civicstat publish` give the reference counts. Then, `trials`
times each, a copy of the base runs the same command and is killed (SIGKILL) at a random moment
within the uninterrupted run's duration; after each kill:

- both snapshots open and carry one version (public and internal alike), and the store opens;
- the same command run again to the end cleans up after the killed one (no temporary files of
  dead processes in build/), leaves no snapshot behind the store (what the killed run committed
  is published), and ends with the store, run log and snapshot tables of the uninterrupted run
  (row counts table by table, and a fingerprint of every stored request).

Where each kill landed is counted: before the ingest committed, after it committed (publish not
finished), or after the command had already finished.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.ingest_speed import DEFAULT_BOUNDARIES, NYC_MAPPING, make_bench_city, make_nyc_csv

PROJECT = Path(__file__).resolve().parent.parent
CIVICSTAT = [str(Path(sys.executable).parent / "civicstat")]  # the venv's entry point


def make_base(work: Path, rows: int, boundaries: Path = DEFAULT_BOUNDARIES) -> dict[str, Path]:
    """work/base (a published city holding `rows` requests), the delta file and the mapping."""
    base = make_bench_city(work / "base", "Crashville", boundaries)
    mapping = work / "nyc.toml"
    mapping.write_text(NYC_MAPPING, encoding="utf-8")
    first = make_nyc_csv(work / "base.csv", rows, seed=0)
    # half the base's ids again (other statuses and times) and a fifth of new ids
    delta = make_nyc_csv(work / "delta.csv", rows // 2 + rows // 5, seed=1,
                         first_id=30_000_000 + rows // 2)
    _run(["ingest", str(base), str(first), "--mapping", str(mapping)])
    return {"base": base, "delta": delta, "mapping": mapping}


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*CIVICSTAT, *args], capture_output=True, text=True, check=True,
                          cwd=PROJECT, **kwargs)


def command(kind: str, city: Path, files: dict[str, Path]) -> list[str]:
    if kind == "ingest":
        return ["ingest", str(city), str(files["delta"]), "--mapping", str(files["mapping"])]
    return ["publish", str(city)]


def fingerprint(city: Path) -> dict:
    """What must equal the uninterrupted run's: stored requests (count and a hash of every row's
    content), ingest runs recorded, and each snapshot table's row count."""
    import duckdb

    from civicstat.serve.snapshots import connect_snapshot

    with duckdb.connect(str(city / "store.duckdb"), read_only=True) as con:
        count, digest = con.execute(
            "select count(*), bit_xor(hash(request_id, status, created_at, closed_at, "
            "updated_at, district)) from requests").fetchone()
        runs = con.execute("select count(*) from ingest_runs").fetchone()[0]
    tables = {}
    for audience in ("public", "internal"):
        with connect_snapshot(city / "build" / f"{audience}.duckdb") as con:
            names = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()]
            for name in sorted(set(names) - {"snapshot_info"}):
                tables[f"{audience}.{name}"] = con.execute(
                    f'select count(*) from "{name}"').fetchone()[0]  # noqa: S608 (catalog names)
    return {"requests": count, "digest": digest, "runs": runs, "tables": tables}


def versions(city: Path) -> dict[str, str]:
    """Each snapshot's version (both must open)."""
    from civicstat.serve.snapshots import connect_snapshot, read_info

    found = {}
    for audience in ("public", "internal"):
        with connect_snapshot(city / "build" / f"{audience}.duckdb") as con:
            found[audience] = read_info(con)["version"]
    return found


def _committed_runs(city: Path) -> int:
    import duckdb

    with duckdb.connect(str(city / "store.duckdb"), read_only=True) as con:
        return con.execute("select count(*) from ingest_runs").fetchone()[0]


def _temporary_files(city: Path) -> list[str]:
    return sorted(p.name for p in (city / "build").iterdir() if p.name.startswith("."))


@dataclass
class Outcome:
    kind: str
    trials: int = 0
    failures: list[str] = field(default_factory=list)
    landed: dict[str, int] = field(default_factory=dict)
    reference_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"kind": self.kind, "trials": self.trials, "failed": len(self.failures),
                "failures": self.failures[:10], "landed": self.landed,
                "reference_seconds": round(self.reference_seconds, 2)}


def trial(kind: str, start: Path, city: Path, files: dict[str, Path], delay: float,
          reference: dict) -> tuple[str, list[str]]:
    """One kill: copy `start` to `city`, run `kind`, SIGKILL it after `delay` s, check, finish."""
    shutil.rmtree(city, ignore_errors=True)
    shutil.copytree(start, city, symlinks=True)
    runs_before = _committed_runs(city)
    versions_before = versions(city)
    process = subprocess.Popen([*CIVICSTAT, *command(kind, city, files)], cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = process.poll() is not None
    if not finished:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    problems = []
    try:
        after = versions(city)
        if after["public"] != after["internal"]:
            problems.append(f"versions differ after the kill: {after}")
    except Exception as error:  # noqa: BLE001 (any failure to open is the finding)
        problems.append(f"a snapshot does not open after the kill: {error}")
        after = {}
    committed = _committed_runs(city) > runs_before if kind == "ingest" else None
    if finished:
        landed = "after the command finished"
    elif kind == "ingest":
        landed = "after the ingest committed" if committed else "before the ingest committed"
    else:
        landed = "publish swapped" if after and after != versions_before else "before the swap"
    _run(command(kind, city, files))
    from civicstat.core.city import load_city
    from civicstat.publish.build import snapshots_behind

    if snapshots_behind(load_city(city)):
        problems.append("the snapshots are behind the store after the next run")
    leftovers = _temporary_files(city)
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    final = fingerprint(city)
    if final != reference:
        differing = {key: (final[key], reference[key]) for key in final if final[key] != reference[key]}
        problems.append(f"final state differs from the uninterrupted run: {differing}")
    return landed, problems


def run(rows: int = 300_000, trials: int = 20, seed: int = 1, work: Path | None = None,
        boundaries: Path = DEFAULT_BOUNDARIES, progress=print) -> dict:
    """The whole experiment; returns {"rows", "ingest": Outcome dict, "publish": ...}."""
    rng = random.Random(seed)
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="civicstat-crashes-")) if own else work
    try:
        files = make_base(work, rows, boundaries)
        results = {"rows": rows, "trials_each": trials, "seed": seed}
        # the uninterrupted runs: ingest then publish, each from its own starting point
        after_ingest = work / "after-ingest"
        shutil.copytree(files["base"], after_ingest, symlinks=True)
        started = time.perf_counter()
        _run(command("ingest", after_ingest, files))
        ingest_seconds = time.perf_counter() - started
        reference = fingerprint(after_ingest)
        started = time.perf_counter()
        _run(command("publish", after_ingest, files))
        publish_seconds = time.perf_counter() - started
        if fingerprint(after_ingest) != reference:
            raise RuntimeError("a second publish changed the snapshots' counts")
        for kind, start, seconds in (("ingest", files["base"], ingest_seconds),
                                     ("publish", after_ingest, publish_seconds)):
            outcome = Outcome(kind, reference_seconds=seconds)
            for number in range(trials):
                delay = rng.uniform(0.0, seconds)
                landed, problems = trial(kind, start, work / "trial", files, delay, reference)
                outcome.trials += 1
                outcome.landed[landed] = outcome.landed.get(landed, 0) + 1
                outcome.failures += [f"kill at {delay:.2f} s ({landed}): {p}" for p in problems]
                progress(f"{kind} kill {number + 1}/{trials} at {delay:.2f} s, {landed}: "
                         f"{'ok' if not problems else '; '.join(problems)}")
            results[kind] = outcome.as_dict()
        return results
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = run(args.rows, args.trials, args.seed)
    print(json.dumps(results, indent=2))
    return 0 if not (results["ingest"]["failed"] or results["publish"]["failed"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
