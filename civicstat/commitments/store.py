"""The commitments database: SQLite in WAL mode at <city folder>/commitments.sqlite.

It is the first data the app itself writes, so it lives beside the store, never in build/ (publish
replaces what is there and never touches this file). Several app processes (and the command line)
may use it at once: WAL lets readers go on while one writes; every write is one short
`BEGIN IMMEDIATE` transaction, and a writer that finds the file locked waits (busy_timeout)
instead of failing. Each call opens its own connection and closes it, so no connection is shared
between Streamlit's threads.

The schema is created and migrated here: `schema_version` holds the version, and MIGRATIONS the
steps from each version to the next, applied in one transaction by whichever process first opens
the file after an upgrade.

Every change is kept in `commitment_events` (who, when, what: the fields changed, old and new,
and the reason for a closing), in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

from civicstat.core.commitments import EDITABLE, Commitment, check

FILE_NAME = "commitments.sqlite"
BUSY_TIMEOUT_MS = 15_000

MIGRATIONS: tuple[str, ...] = (  # MIGRATIONS[n] takes the schema from version n to n + 1
    """
    create table commitments (
        id integer primary key autoincrement,
        department text not null,
        district text,
        request_type text,
        channel text,
        metric text not null,
        target real not null,
        due_date text not null,
        window_days integer not null,
        owner text not null default '',
        note text not null default '',
        made_at text not null,
        made_by text,
        baseline real,
        baseline_as_of text,
        closed integer not null default 0,
        close_reason text,
        revision integer not null default 0
    );
    create index commitments_department on commitments (department);
    create table commitment_events (
        id integer primary key autoincrement,
        commitment_id integer not null references commitments (id),
        at text not null,
        actor text,
        action text not null,
        details text not null
    );
    create index commitment_events_commitment on commitment_events (commitment_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class CommitmentError(ValueError):
    """A commitment that cannot be recorded or changed as asked."""


def path_for(city_root: Path | str) -> Path:
    return Path(city_root) / FILE_NAME


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = normal")  # WAL: durable at checkpoints, never corrupt
    con.execute("pragma foreign_keys = on")
    return con


@contextmanager
def _write(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction, taken at once (BEGIN IMMEDIATE) so two writers never
    deadlock upgrading a read lock; the busy timeout covers the wait."""
    con.execute("begin immediate")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def schema_version(con: sqlite3.Connection) -> int:
    found = con.execute(
        "select 1 from sqlite_master where type = 'table' and name = 'schema_version'"
    ).fetchone()
    if not found:
        return 0
    row = con.execute("select max(version) from schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION (in one transaction); the version reached."""
    if schema_version(con) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with _write(con):
        con.execute("create table if not exists schema_version (version integer not null, "
                    "applied_at text not null)")
        current = schema_version(con)  # again, under the write lock: another process may have
        if current > SCHEMA_VERSION:
            raise CommitmentError(
                f"the commitments database is at schema version {current}, newer than this "
                f"CivicStat ({SCHEMA_VERSION}): upgrade CivicStat")
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute("insert into schema_version values (?, ?)", (version + 1, _now()))
    return SCHEMA_VERSION


class CommitmentStore:
    """The commitments of one city folder."""

    def __init__(self, city_root: Path | str) -> None:
        self.path = path_for(city_root)
        with closing(_connect(self.path)) as con:
            migrate(con)

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        with closing(_connect(self.path)) as con:
            yield con

    # reading ------------------------------------------------------------------------------

    @staticmethod
    def _from_row(row: sqlite3.Row) -> Commitment:
        return Commitment(
            id=row["id"], department=row["department"], district=row["district"],
            request_type=row["request_type"], channel=row["channel"], metric=row["metric"],
            target=row["target"], due_date=dt.date.fromisoformat(row["due_date"]),
            window_days=row["window_days"], owner=row["owner"], note=row["note"],
            made_at=dt.datetime.fromisoformat(row["made_at"]), made_by=row["made_by"],
            baseline=row["baseline"],
            baseline_as_of=(dt.datetime.fromisoformat(row["baseline_as_of"])
                            if row["baseline_as_of"] else None),
            closed=bool(row["closed"]), close_reason=row["close_reason"], revision=row["revision"],
        )

    def list(self, *, department: str | None = None, district: str | None = None,
             include_closed: bool = True) -> list[Commitment]:
        """Commitments, oldest first; filtered by department and district when given."""
        where, values = ["1 = 1"], []
        if department:
            where.append("department = ?")
            values.append(department)
        if district:
            where.append("district = ?")
            values.append(district)
        if not include_closed:
            where.append("closed = 0")
        with self._con() as con:
            rows = con.execute(
                f"select * from commitments where {' and '.join(where)} order by id",  # noqa: S608 (constant text)
                values,
            ).fetchall()
        return [self._from_row(row) for row in rows]

    def get(self, commitment_id: int) -> Commitment:
        with self._con() as con:
            row = con.execute("select * from commitments where id = ?", (commitment_id,)).fetchone()
        if row is None:
            raise CommitmentError(f"no commitment {commitment_id}")
        return self._from_row(row)

    def history(self, commitment_id: int | None = None) -> list[dict]:
        """Every change (of one commitment, or all), oldest first: at, actor, action, details."""
        with self._con() as con:
            rows = con.execute(
                "select * from commitment_events where ? is null or commitment_id = ? order by id",
                (commitment_id, commitment_id),
            ).fetchall()
        return [{**dict(row), "details": json.loads(row["details"])} for row in rows]

    def revision(self) -> int:
        """A number that changes with every write (the last event's id): a cache key."""
        with self._con() as con:
            return int(con.execute("select coalesce(max(id), 0) from commitment_events").fetchone()[0])

    # writing ------------------------------------------------------------------------------

    @staticmethod
    def _values(c: Commitment) -> dict:
        return {
            "department": c.department.strip(), "district": c.district or None,
            "request_type": c.request_type or None, "channel": c.channel or None,
            "metric": c.metric, "target": float(c.target), "due_date": c.due_date.isoformat(),
            "window_days": int(c.window_days), "owner": c.owner or "", "note": c.note or "",
        }

    def add(self, c: Commitment, actor: str | None) -> Commitment:
        """Record a new commitment (its made_at is now, its baseline as given); its id back."""
        problem = check(c)
        if problem:
            raise CommitmentError(problem)
        values = self._values(c)
        made_at = (c.made_at.isoformat() if c.made_at else _now())
        with self._con() as con, _write(con):
            cursor = con.execute(
                "insert into commitments (department, district, request_type, channel, metric, "
                "target, due_date, window_days, owner, note, made_at, made_by, baseline, "
                "baseline_as_of) values (:department, :district, :request_type, :channel, "
                ":metric, :target, :due_date, :window_days, :owner, :note, :made_at, :made_by, "
                ":baseline, :baseline_as_of)",
                {**values, "made_at": made_at, "made_by": actor, "baseline": c.baseline,
                 "baseline_as_of": c.baseline_as_of.isoformat() if c.baseline_as_of else None},
            )
            new_id = int(cursor.lastrowid)
            self._event(con, new_id, actor, "made", {**values, "baseline": c.baseline}, made_at)
        return replace(c, id=new_id, made_at=dt.datetime.fromisoformat(made_at), made_by=actor)

    @staticmethod
    def _event(con: sqlite3.Connection, commitment_id: int, actor: str | None, action: str,
               details: dict, at: str | None = None) -> None:
        con.execute(
            "insert into commitment_events (commitment_id, at, actor, action, details) "
            "values (?, ?, ?, ?, ?)",
            (commitment_id, at or _now(), actor, action, json.dumps(details, default=str)),
        )

    def edit(self, commitment_id: int, changes: dict, actor: str | None,
             reason: str = "") -> Commitment:
        """Change some of EDITABLE's fields; the event keeps each field's old and new value.
        A change that changes nothing records nothing."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise CommitmentError(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
        with self._con() as con, _write(con):
            row = con.execute("select * from commitments where id = ?", (commitment_id,)).fetchone()
            if row is None:
                raise CommitmentError(f"no commitment {commitment_id}")
            current = self._from_row(row)
            try:
                updated = replace(current, **changes)
            except ValueError as error:
                raise CommitmentError(str(error)) from error
            before, after = self._values(current), self._values(updated)
            diff = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
            if not diff:
                return current
            con.execute(
                "update commitments set department = :department, district = :district, "
                "request_type = :request_type, channel = :channel, metric = :metric, "
                "target = :target, due_date = :due_date, window_days = :window_days, "
                "owner = :owner, note = :note, revision = revision + 1 where id = :id",
                {**after, "id": commitment_id},
            )
            self._event(con, commitment_id, actor, "edited",
                        {"changes": diff, **({"reason": reason} if reason else {})})
        return self.get(commitment_id)

    def close(self, commitment_id: int, reason: str, actor: str | None) -> Commitment:
        """Close a commitment; a reason is required."""
        if not str(reason or "").strip():
            raise CommitmentError("closing a commitment needs a reason")
        return self._set_closed(commitment_id, True, reason.strip(), actor)

    def reopen(self, commitment_id: int, reason: str, actor: str | None) -> Commitment:
        return self._set_closed(commitment_id, False, reason.strip() or None, actor)

    def _set_closed(self, commitment_id: int, closed: bool, reason: str | None,
                    actor: str | None) -> Commitment:
        with self._con() as con, _write(con):
            cursor = con.execute(
                "update commitments set closed = ?, close_reason = ?, revision = revision + 1 "
                "where id = ? and closed = ?",
                (int(closed), reason if closed else None, commitment_id, int(not closed)),
            )
            if cursor.rowcount != 1:
                exists = con.execute("select 1 from commitments where id = ?",
                                     (commitment_id,)).fetchone()
                raise CommitmentError(
                    f"no commitment {commitment_id}" if not exists else
                    f"commitment {commitment_id} is already {'closed' if closed else 'open'}")
            self._event(con, commitment_id, actor, "closed" if closed else "reopened",
                        {"reason": reason})
        return self.get(commitment_id)
