"""Incremental publish (civicstat/publish/incremental.py): after any sequence of ingests, the
snapshots brought up to date incrementally equal a full publish of the same store, table by table
and view by view (sorted rows; floats compared with a tolerance only where publish computes them
from many rows). Hand-written sequences, then sequences hypothesis draws."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicstat.core.city import load_city
from civicstat.core.definitions import derived_columns
from civicstat.ingest.pipeline import ingest_files
from civicstat.publish import incremental
from civicstat.publish.build import publish
from civicstat.publish.models import ModelError, snapshot_models

from citykit import CENTRES, OUTSIDE, FrameAdapter, make_city, placeholder_file

EXTRA_TOML = """
[privacy]
k = 3
[privacy.sensitive]
"Abuse" = "aggregate_only"
"Camp" = "no_location"
"""

# snapshot_info columns that say when and how a snapshot was built, not what it holds
BOOKKEEPING = {"version", "built_at", "recipe", "rows_since_full"}
# values publish computes from many rows (medians, quantiles, averages): compared to 1e-9
COMPUTED = {"median_days_to_close", "p90_days_to_close", "ref_lat"}

START = dt.datetime(2024, 1, 1)


@pytest.fixture(autouse=True)
def any_share(monkeypatch):
    """Tiny cities change a large share of their requests at each step: follow them anyway."""
    monkeypatch.setattr(incremental, "CHANGED_SHARE", 1e9)
    monkeypatch.setattr(incremental, "CUMULATIVE_SHARE", 1e9)


def relations(path: Path) -> dict[str, list[str]]:
    """Every table and view of a snapshot with its columns."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name from duckdb_columns() "
            "where database_name = current_database() and not internal "
            "order by table_name, column_index").fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, repr(value)) for value in row)


def contents(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    tables = relations(path)
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: (columns, sorted(con.execute(f'select * from "{name}"').fetchall(),
                                   key=_sort_key))
            for name, columns in tables.items()
        }


def assert_same_snapshot(incremental_path: Path, full_path: Path) -> None:
    got, want = contents(incremental_path), contents(full_path)
    assert sorted(got) == sorted(want)
    for name, (columns, rows) in want.items():
        got_columns, got_rows = got[name]
        assert got_columns == columns, name
        keep = [i for i, c in enumerate(columns) if not (name == "snapshot_info" and c in BOOKKEEPING)]
        assert len(got_rows) == len(rows), (name, got_rows, rows)
        for mine, theirs in zip(got_rows, rows, strict=True):
            for i in keep:
                a, b = mine[i], theirs[i]
                if columns[i] in COMPUTED and a is not None and b is not None:
                    assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (name, columns[i], mine, theirs)
                else:
                    assert a == b or (a != a and b != b), (name, columns[i], mine, theirs)


def full_publish_of(city, work: Path):
    """A second city folder with the same configuration and a copy of the store, published in
    full."""
    other = work / "full"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(city.root, other, ignore=shutil.ignore_patterns("build"))
    twin = load_city(other)
    info = publish(twin, full=True)
    assert info["publish_mode"] == "full"
    return twin, info


def check_step(city, info: dict, work: Path) -> None:
    twin, full_info = full_publish_of(city, work)
    assert info["content_hash"] == full_info["content_hash"]
    assert info["as_of"] == full_info["as_of"]
    for attribute in ("internal_path", "public_path"):
        assert_same_snapshot(getattr(city, attribute), getattr(twin, attribute))


def record(rid, created, *, closed=None, closure=None, rtype="Pothole", district="1",
           updated=None, status=None, channel="phone", department="Streets", due=None,
           information_only=False) -> dict:
    lat, lon = (None, None) if district is None else OUTSIDE if district == "out" else CENTRES[district]
    return {
        "request_id": str(rid), "created_at": created, "closed_at": closed, "updated_at": updated,
        "status": status or ("closed" if closed else "open"), "closure": closure,
        "request_type": rtype, "department": department, "category": department,
        "lat": lat, "lon": lon, "channel": channel, "due_at": due,
        "is_information_only": information_only, "address": f"{rid} Main St",
    }


def ingest(city, records: list[dict], work: Path) -> dict:
    summary = ingest_files(city, [placeholder_file(work)], FrameAdapter(records))
    assert summary.published is not None
    return summary.published


def test_hand_written_sequence_follows_a_full_publish(tmp_path):
    city = make_city(tmp_path, extra_toml=EXTRA_TOML)
    first = ingest(city, [
        record(1, "2024-01-01T10:00"),
        record(2, "2024-01-02T10:00", closed="2024-01-03T10:00"),
        record(3, "2024-01-03T10:00", rtype="Abuse"),
        record(4, "2024-01-03T11:00", rtype="Camp", district="3", due="2024-01-04T00:00"),
        record(5, "2024-01-03T12:00", rtype="Noise", department="Police", district="out"),
    ], tmp_path)
    assert first["publish_mode"] == "full"
    steps = [
        # closures, one moving request 1 to another district and type, a duplicate, new ones
        [record(1, "2024-01-01T10:00", closed="2024-01-05T10:00", district="2", rtype="Noise",
                updated="2024-01-05T10:00"),
         record(6, "2024-01-06T10:00", closed="2024-01-06T11:00", closure="duplicate"),
         record(7, "2024-01-06T12:00", rtype="Camp", channel="web")],
        # request 2 reopened (newer version) and moved to another day; an information-only call
        [record(2, "2024-01-04T09:00", updated="2024-01-07T00:00"),
         record(8, "2024-01-07T08:00", information_only=True, district=None)],
        # the as-of moves a month on: open requests become past due without changing
        [record(9, "2024-02-10T08:00", closed="2024-02-10T09:00", closure="cancelled")],
        # a stale version (ignored) and a closure before creation
        [record(9, "2024-02-10T08:00", updated="2024-02-01T00:00"),
         record(3, "2024-01-03T10:00", closed="2024-01-02T10:00", rtype="Abuse",
                updated="2024-02-11T00:00")],
    ]
    for batch in steps:
        info = ingest(city, batch, tmp_path)
        assert info["publish_mode"] == "incremental", info["publish_reason"]
        check_step(city, info, tmp_path)


def test_a_changed_configuration_publishes_in_full(tmp_path):
    city = make_city(tmp_path, extra_toml=EXTRA_TOML)
    ingest(city, [record(1, "2024-01-01T10:00")], tmp_path)
    toml = city.root / "city.toml"
    toml.write_text(toml.read_text().replace('"Camp" = "no_location"', '"Pothole" = "no_location"'))
    city = load_city(city.root)
    info = ingest(city, [record(2, "2024-01-02T10:00")], tmp_path)
    assert info["publish_mode"] == "full"
    assert "configuration" in info["publish_reason"]
    info = ingest(city, [record(3, "2024-01-03T10:00")], tmp_path)
    assert info["publish_mode"] == "incremental"
    check_step(city, info, tmp_path)


def test_a_store_changed_outside_ingest_runs_is_not_followed(tmp_path):
    """Nothing but ingest may write the store: a run that another writer bypassed is caught by
    the runs check (the store's last run is behind the snapshot's)."""
    city = make_city(tmp_path, extra_toml=EXTRA_TOML)
    ingest(city, [record(1, "2024-01-01T10:00")], tmp_path)
    ingest(city, [record(2, "2024-01-02T10:00")], tmp_path)
    with duckdb.connect(str(city.store_path)) as con:
        con.execute("delete from ingest_runs where run_id = 2")
    info = publish(city)
    assert info["publish_mode"] == "full"
    assert "ingest runs" in info["publish_reason"]


def test_many_changed_requests_publish_in_full(tmp_path, monkeypatch):
    monkeypatch.setattr(incremental, "CHANGED_SHARE", 0.10)
    city = make_city(tmp_path, default_hours=100_000, target_hours={})  # nothing comes due
    ingest(city, [record(i, f"2024-01-01T{i:02d}:00") for i in range(20)], tmp_path)
    info = ingest(city, [record(20, "2024-01-02T10:00")], tmp_path)  # 1 of 21
    assert info["publish_mode"] == "incremental", info["publish_reason"]
    info = ingest(city, [record(i, f"2024-01-01T{i:02d}:00", closed="2024-01-03T10:00")
                         for i in range(5)], tmp_path)  # 5 of 21
    assert info["publish_mode"] == "full"
    assert info["publish_reason"] == "5 of 21 requests changed: a full publish is as fast"
    check_step(city, info, tmp_path)


def test_the_derived_columns_read_the_as_of_only_as_due_at_before_it():
    """incremental.changed_requests adds the requests whose due time lies between the old and
    the new as-of: right only while the derived columns compare $as_of with due_at alone."""
    sql = " ".join(derived_columns("r").split())
    assert sql.count("$as_of") == sql.count("r.due_at < $as_of::timestamp") == 2


def test_the_models_can_be_followed_incrementally():
    incremental.check_models()
    internal = {m.name: m for m in snapshot_models()["internal"]}
    broken = {**snapshot_models(), "internal": tuple(
        m if m.name != "daily_flows" else type(m)(**{**m.__dict__, "depends": (*m.depends, "sources")})
        for m in internal.values())}
    with pytest.raises(ModelError, match="rebuilt"):
        incremental.check_models(broken)


# --- sequences drawn by hypothesis ---------------------------------------------------------

DISTRICTS = [*CENTRES, "out", None]
TYPES = ["Pothole", "Noise", "Abuse", "Camp", None]


@st.composite
def records(draw, day_span: int) -> dict:
    created = START + dt.timedelta(hours=draw(st.integers(0, 24 * day_span)))
    closed_after = draw(st.one_of(st.none(), st.integers(-30, 24 * 20)))
    closed = None if closed_after is None else created + dt.timedelta(hours=closed_after)
    updated_after = draw(st.one_of(st.none(), st.integers(0, 24 * 30)))
    due_after = draw(st.one_of(st.none(), st.integers(-5, 24 * 10)))
    rtype = draw(st.sampled_from(TYPES))
    return record(
        draw(st.integers(0, 14)), created.isoformat(),
        closed=closed and closed.isoformat(),
        closure=draw(st.sampled_from([None, "resolved", "duplicate", "cancelled"])),
        rtype=rtype, district=draw(st.sampled_from(DISTRICTS)),
        updated=None if updated_after is None else
        (created + dt.timedelta(hours=updated_after)).isoformat(),
        status=draw(st.sampled_from([None, None, "open", "closed", "pending"])),
        channel=draw(st.sampled_from(["phone", "web", None])),
        department=draw(st.sampled_from(["Streets", "Police"])),
        due=None if due_after is None else (created + dt.timedelta(hours=due_after)).isoformat(),
        information_only=draw(st.booleans()) and draw(st.booleans()),
    )


@st.composite
def sequences(draw) -> list[list[dict]]:
    """Batches whose times move on, like daily deltas (the as-of with them), with updates to
    earlier ids mixed in."""
    steps = draw(st.integers(2, 4))
    return [draw(st.lists(records(day_span=6 * (step + 1)), min_size=1, max_size=6))
            for step in range(steps)]


@settings(max_examples=int(__import__("os").environ.get("CIVICSTAT_HYPOTHESIS_EXAMPLES", "6")),
          deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=sequences())
def test_any_sequence_of_ingests_follows_a_full_publish(batches):
    incremental.CHANGED_SHARE = incremental.CUMULATIVE_SHARE = 1e9  # (hypothesis: no fixtures)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        city = make_city(work, extra_toml=EXTRA_TOML)
        for number, batch in enumerate(batches):
            summary = ingest_files(city, [placeholder_file(work)], FrameAdapter(batch))
            info = summary.published
            if info is None:  # nothing changed: nothing published
                continue
            if number > 0 and city.internal_path.exists():
                assert info["publish_mode"] == "incremental" or "empty" in info["publish_reason"], info
            check_step(city, info, work)
