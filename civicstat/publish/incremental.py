"""Incremental publish: bring the previous snapshots up to date with the requests that changed
since they were built, instead of building them again from the whole store.

What changed. Every insert and update of a request by ingest or pull sets its `run_id` in the
store (civicstat/ingest/pipeline.py), and each snapshot records the store's last run it includes
(`store_run`). The requests changed since are those with a later `run_id`; nothing else writes
the store's requests, and none is ever deleted. Besides those, a request whose row did not change
can still get other derived columns when the as-of time moves: the derived columns
(civicstat/core/definitions.py) read the as-of only as `due_at < $as_of`, so between as-of times A
and B exactly the requests with A <= due_at < B (and not closed with a closed time) can change;
they are added to the changed requests. The changed requests' old rows are read from the previous
snapshot, their new rows built from the store.

How each table follows. Each table model says in its `-- incremental:` header line
(civicstat/publish/models.py) how it is brought up to date, and this module does it generically
by running the model's own SQL over the changed requests' old and new rows (the relations it reads
replaced by those "partials", table by table in dependency order):

- `rows by request_id`: delete the changed requests' rows, insert their new rows;
- `rows`: rows computed from one request each (close_times, counted_requests): the old rows are
  deleted as a multiset (one stored row per old row, matched on every column), the new inserted;
- `sums`: counts per group: per group, stored + new partial − old partial, keeping the groups the
  model's keep rule keeps (default: some count not 0);
- `rebuild`: built again in full from its (already updated) inputs: small tables, and everything
  that reads the as-of time (snapshot_info) or is not a sum (type_typical_times, sources).

Why it is exact: by induction the previous snapshot equals a full publish of the previous store;
a `rows` or `sums` model's content is a sum over requests of a function of the request's row
alone (checked in check_models: it reads no as-of, no rebuilt table but constant ones), so
removing the old rows' terms and adding the new rows' terms gives the full publish of the new
store. tests/test_incremental_publish.py checks it table by table after random sequences of
ingests.

When not. A full publish runs instead (and the summary says why) when there is no previous
snapshot or it lacks this bookkeeping, when the recipe changed (city.toml, boundary files, the
models or the publish code: `recipe`), when the store has no runs or was replaced, when the store
is empty, or when the changed requests are many (then a full publish is about as fast, and it
also restores the tables' sort order, which incremental appends erode).
"""

# ruff: noqa: S608 (SQL text from model files, catalog names and constants, never user input)
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from civicstat import PROJECT_DIR
from civicstat.core.city import City
from civicstat.core.schema import COLUMN_NAMES
from civicstat.publish.models import SNAPSHOT_MODELS_DIR, SPLICES, Model, ModelError, snapshot_models
from civicstat.serve.snapshots import SNAPSHOT_FORMAT

# A full publish instead when the changed requests are more than this share of the store, or the
# requests changed since the last full publish more than CUMULATIVE_SHARE (sort order erodes).
CHANGED_SHARE = 0.10
CUMULATIVE_SHARE = 0.25

# Tables a `rows`/`sums` model may read in full although they are rebuilt: their content does not
# depend on the requests a partial holds (the reason is the value).
STATIC = {
    "days_to_close_bands": "constant",
    "request_types": "close_times reads it for the order of departments only",
}

# The code whose change can change a snapshot's content: a change forces a full publish.
_CODE = (
    "civicstat/publish/build.py", "civicstat/publish/incremental.py",
    "civicstat/publish/models.py", "civicstat/core/definitions.py",
    "civicstat/core/privacy.py", "civicstat/core/schema.py", "civicstat/core/asof.py",
    "civicstat/serve/snapshots.py",
)

# A request's stored content, hashed: the canonical columns and its flags (the store's run_id is
# bookkeeping). The same expression over the store and over a snapshot's requests table.
CONTENT_HASH = f"hash({', '.join(COLUMN_NAMES)}, flags)"

_MACROS = ("macro", "scalar_macro")


def recipe(city: City) -> str:
    """A hash of everything besides the store that a snapshot's content depends on: the city's
    configuration and boundary files, the models and the publish code, the snapshot format."""
    digest = hashlib.sha256(f"{SNAPSHOT_FORMAT}\n{city!r}\n".encode())
    files = [city.root / "city.toml", *(layer.file for layer in city.boundaries)]
    files += sorted(SNAPSHOT_MODELS_DIR.rglob("*.sql")) + [PROJECT_DIR / p for p in _CODE]
    for path in files:
        digest.update(str(path).encode())
        digest.update(Path(path).read_bytes() if Path(path).is_file() else b"(missing)")
    digest.update(repr(sorted(SPLICES.items())).encode())
    return digest.hexdigest()[:16]


@dataclass
class Delta:
    """The changed requests of an incremental publish (temp table _changed) and what they do to
    the snapshot info."""

    since_run: int
    count_changed: int
    count_by_as_of: int  # of count_changed: changed only because the as-of moved past their due time
    content_hash: str
    rows_since_full: int


def check_models(models: dict[str, tuple[Model, ...]] | None = None) -> None:
    """Refuse model headers an incremental publish could not follow exactly: a `rows`/`sums`
    table that reads the as-of time (snapshot_info, or a bound $as_of other than the requests
    table's derived columns), a rebuilt table that is not constant, or the store other than as
    its rows by request_id."""
    models = models or snapshot_models()
    for snapshot, ordered in models.items():
        by_name = {m.name: m for m in ordered}
        if snapshot == "public":
            by_name |= {f"internal.{m.name}": m for m in models["internal"]}
        for model in ordered:
            if model.materialized != "table" or model.incremental == "rebuild":
                continue
            _check_reads(model, by_name, model)


def _check_reads(model: Model, by_name: dict[str, Model], top: Model) -> None:
    if "as_of" in {p.name for p in model.params} and model.name != "requests":
        raise ModelError(f"{top.path}: incremental {top.incremental} but reads $as_of")
    for dep in model.depends:
        if dep in STATIC:
            continue
        if dep == "store.requests" and model is top and top.incremental == "rows by request_id":
            continue
        other = by_name.get(dep)
        if other is None:
            raise ModelError(f"{top.path}: incremental {top.incremental} but reads {dep}")
        if other.materialized in _MACROS:
            continue
        if other.materialized == "view":
            _check_reads(other, by_name, top)
            continue
        if other.incremental == "rebuild":
            raise ModelError(f"{top.path}: incremental {top.incremental} but reads {dep}, "
                             "which is rebuilt")


def changed_requests(con: duckdb.DuckDBPyConnection, previous: dict, as_of, count: int,
                     city_recipe: str) -> Delta | str:
    """With the previous internal snapshot attached as `previous` and the store as `store`:
    the temp tables _changed (request_id) and _p_old_internal_requests (their rows in the
    previous snapshot), and the new content hash; or the reason to publish in full."""
    if previous.get("recipe") != city_recipe:
        return "the city's configuration, boundaries, models or publish code changed"
    since = previous.get("store_run")
    (last,) = con.execute("select max(run_id) from store.ingest_runs").fetchone()
    if since is None or last is None or int(last) < int(since):
        return "the store's ingest runs do not continue the previous snapshot's"
    old_as_of = previous.get("as_of")
    if as_of is None or old_as_of is None:
        return "the store is empty"
    low, high = sorted((old_as_of, as_of))
    # the store's rows changed since, read through a filter on run_id (no join over the store)
    con.execute("create or replace temp table _store_changed as "
                "select * from store.requests where run_id > $since", {"since": int(since)})
    con.execute(
        """
        create or replace temp table _changed as
        select request_id from _store_changed
        union
        select request_id from previous.requests
        where due_at >= $low and due_at < $high
            and not (status = 'closed' and closed_at is not null)
        """,
        {"low": low, "high": high},
    )
    (changed,) = con.execute("select count(*) from _changed").fetchone()
    (stored,) = con.execute("select count(*) from _store_changed").fetchone()
    since_full = int(previous.get("rows_since_full") or 0) + changed
    if changed > CHANGED_SHARE * count:
        return f"{changed:,} of {count:,} requests changed: a full publish is as fast"
    if since_full > CUMULATIVE_SHARE * count:
        return (f"{since_full:,} requests changed since the last full publish: a full publish "
                "restores the tables' sort order")
    con.execute(
        "create or replace temp table _p_old_internal_requests as select * from previous.requests "
        "where request_id in (select request_id from _changed)"
    )
    # a request the as-of alone changed has the same stored content as in the previous snapshot
    con.execute(
        f"""
        insert into _store_changed by name
        select {", ".join(COLUMN_NAMES)}, flags from _p_old_internal_requests
        where request_id not in (select request_id from _store_changed)
        """
    )
    (gone,) = con.execute(
        f"select coalesce(bit_xor({CONTENT_HASH}), 0) from _p_old_internal_requests"
    ).fetchone()
    (came,) = con.execute(
        f"select coalesce(bit_xor({CONTENT_HASH}), 0) from _store_changed"
    ).fetchone()
    content = int(previous["content_hash"], 16) ^ int(gone) ^ int(came)
    return Delta(since_run=int(since), count_changed=int(changed),
                 count_by_as_of=int(changed) - int(stored),
                 content_hash=f"{content:016x}", rows_since_full=since_full)


def _partial(side: str, snapshot: str, name: str) -> str:
    return f"temp.main._p_{side}_{snapshot}_{name.replace('.', '_')}"


def _substituted(sql: str, names: dict[str, str]) -> str:
    """SQL with each relation it reads (`from name`, `join name`) replaced by names[name]."""
    for name, table in sorted(names.items(), key=lambda item: -len(item[0])):
        sql = re.sub(rf"(\b(?:from|join)\s+){re.escape(name)}(?![\w.])", rf"\g<1>{table}", sql)
    return sql


class Updater:
    """Applies the changed requests to one snapshot's copy (the current database), model by
    model, after the inputs (request_types, districts, snapshot_info) were written again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, snapshot: str, values: dict[str, object],
                 build_model):
        self.con = con
        self.snapshot = snapshot
        self.values = values
        self.build_model = build_model
        self.kinds: dict[str, str] = {}

    def run(self) -> dict[str, str]:
        """Bring every model up to date; returns how each table was (model name -> kind)."""
        for model in snapshot_models()[self.snapshot]:
            if model.materialized in _MACROS:
                continue
            if model.materialized == "view":
                self._view(model)
            else:
                self._table(model)
        return self.kinds

    def _names(self, side: str, model: Model) -> dict[str, str] | None:
        """The partial of each relation the model reads; None if one it reads has none."""
        names = {}
        for dep in model.depends:
            if dep == "store.requests":
                names[dep] = "temp.main._store_changed"
                continue
            snapshot, name = ("internal", dep[9:]) if dep.startswith("internal.") \
                else (self.snapshot, dep)
            table = _partial(side, snapshot, name)
            if self._exists(table):
                names[dep] = table
            elif dep not in STATIC and not self._is_macro(dep):
                return None
        return names

    def _is_macro(self, name: str) -> bool:
        return any(m.name == name and m.materialized in _MACROS
                   for m in snapshot_models()[self.snapshot])

    def _exists(self, qualified: str) -> bool:
        name = qualified.rsplit(".", 1)[1]
        return bool(self.con.execute(
            "select count(*) from duckdb_tables() where database_name = 'temp' and table_name = ?",
            [name]).fetchone()[0])

    def _make(self, side: str, model: Model) -> bool:
        names = self._names(side, model)
        if names is None:
            return False
        sql = _substituted(model.sql, names)
        target = _partial(side, self.snapshot, model.name)
        bound = model.values(self.values)
        self.con.execute(f"create or replace temp table {target.rsplit('.', 1)[1]} as\n{sql}",
                         bound or None)
        return True

    def _view(self, model: Model) -> None:
        for side in ("old", "new"):
            self._make(side, model)

    def _table(self, model: Model) -> None:
        con, name = self.con, model.name
        old, new = _partial("old", self.snapshot, name), _partial("new", self.snapshot, name)
        if model.incremental == "rebuild":
            con.execute(f"drop table {name}")
            self.build_model(con, model, self.values)
        elif model.incremental == "rows by request_id":
            # the old rows: the model over the old partials (the stored table is that, by
            # induction), else read from the table (a scan of it); the internal requests' old
            # rows were read from the previous snapshot at the start
            if not (self.snapshot == "internal" and name == "requests") \
                    and not self._make("old", model):
                con.execute(f"create or replace temp table {old.rsplit('.', 1)[1]} as "
                            f"select * from {name} where request_id in "
                            "(select request_id from _changed)")
            if not self._make("new", model):
                raise ModelError(f"{model.path}: cannot follow it incrementally")
            con.execute(f"delete from {name} where request_id in "
                        "(select request_id from _changed)")
            con.execute(f"insert into {name} select * from {new}")
        else:
            if not (self._make("old", model) and self._make("new", model)):
                raise ModelError(f"{model.path}: cannot follow it incrementally")
            columns = [row[0] for row in con.execute(f"describe {new}").fetchall()]
            if model.incremental == "rows":
                self._rows(name, old, new, columns)
            else:
                self._sums(name, old, new, columns, model.keep)
        self.kinds[name] = model.incremental

    def _rows(self, name: str, old: str, new: str, columns: list[str]) -> None:
        """Delete the old partial's rows (as a multiset) and insert the new partial's rows, less
        the rows both share."""
        con = self.con
        cols = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"create or replace temp table _gone as select {cols}, count(*) as _n "
                    f"from (select * from {old} except all select * from {new}) group by all")
        con.execute(f"create or replace temp table _came as "
                    f"select * from {new} except all select * from {old}")
        match = " and ".join(f't."{c}" is not distinct from g."{c}"' for c in columns)
        within, bounds = self._range(columns[0], "temp.main._gone")
        con.execute(
            f"""
            delete from {name} where rowid in (
                select _rowid from (
                    select t.rowid as _rowid, g._n,
                        row_number() over (partition by {", ".join(f't."{c}"' for c in columns)}
                                           order by t.rowid) as _copy
                    from {name} as t
                    inner join temp.main._gone as g on {match}
                    where {within}
                )
                where _copy <= _n
            )
            """,
            bounds,
        )
        con.execute(f"insert into {name} select * from temp.main._came")

    def _range(self, column: str, changes: str) -> tuple[str, dict]:
        """A condition on the stored rows' first column: within the changes' range of it (or
        NULL). A filter on constants, so a table sorted by that column (the daily tables, by
        day) reads only the row groups that can match; the exact match follows it."""
        low, high = self.con.execute(
            f'select min("{column}"), max("{column}") from {changes}').fetchone()
        if low is None:
            return f't."{column}" is null', {}
        return (f'(t."{column}" between $low and $high or t."{column}" is null)',
                {"low": low, "high": high})

    def _sums(self, name: str, old: str, new: str, columns: list[str], keep: str | None) -> None:
        """Per group, stored + new − old; the groups touched are replaced by their sums."""
        con = self.con
        keys = [c for c in columns if not c.startswith("count_")]
        counts = [c for c in columns if c.startswith("count_")]
        key_list = ", ".join(f'"{c}"' for c in keys)
        sums = ", ".join(f'sum("{c}") as "{c}"' for c in counts)
        negated = ", ".join([f'"{c}"' for c in keys] + [f'-"{c}" as "{c}"' for c in counts])
        con.execute(
            f"create or replace temp table _delta as select {key_list}, {sums} from ("
            f"select {key_list}, {', '.join(chr(34) + c + chr(34) for c in counts)} from {new} "
            f"union all by name select {negated} from {old}) group by all"
        )
        within, bounds = self._range(keys[0], "temp.main._delta") if keys else ("true", {})
        touched = (f"{within} and exists (select 1 from temp.main._delta as d where "
                   + " and ".join(f'd."{c}" is not distinct from t."{c}"' for c in keys) + ")")
        rule = keep or " or ".join(f'"{c}" <> 0' for c in counts)
        con.execute(
            f"""
            create or replace temp table _merged as
            select * exclude (_keep) from (
                select *, ({rule}) as _keep from (
                    select {key_list}, {sums} from (
                        select {key_list}, {", ".join(f'"{c}"' for c in counts)}
                        from {name} as t where {touched}
                        union all by name
                        select * from temp.main._delta
                    )
                    group by all
                )
            )
            where _keep
            """,
            bounds,
        )
        con.execute(f"delete from {name} as t where {touched}", bounds)
        con.execute(f"insert into {name} by name select * from temp.main._merged")
