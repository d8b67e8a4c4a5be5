"""Publishing: what public.duckdb may hold, the atomic swap, versions, the locked-down reader."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from civicstat.core.schema import PRIVATE_COLUMN_NAMES
from civicstat.publish import build as publish_module
from civicstat.publish.build import publish
from civicstat.serve.snapshots import connect_snapshot, read_info

from smallcity import PRIVATE, make_small_city


@pytest.fixture()
def city(tmp_path):
    city = make_small_city(tmp_path)
    publish(city)
    return city


def columns(path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {row[0] for row in con.execute("describe requests").fetchall()}


def test_public_snapshot_has_no_private_columns(city):
    assert not columns(city.public_path) & set(PRIVATE_COLUMN_NAMES)
    assert set(PRIVATE_COLUMN_NAMES) <= columns(city.internal_path)


def test_no_private_text_anywhere_in_the_public_file(city):
    raw = city.public_path.read_bytes()
    for text in PRIVATE.values():
        assert text.encode() not in raw


def test_public_coordinates_are_coarsened_to_about_100_m(city):
    with duckdb.connect(str(city.public_path), read_only=True) as con:
        finest = con.execute(
            "select max(abs(lat * 1000 - round(lat * 1000))), "
            "max(abs(lon * 1000 - round(lon * 1000))) from requests"
        ).fetchone()
        assert finest[0] < 1e-6 and finest[1] < 1e-6
        exact = con.execute("select lat, lon from requests where request_id = '1'").fetchone()
    assert exact == (40.012, -74.988)


def test_sensitive_types_follow_their_tier(city):
    with duckdb.connect(str(city.public_path), read_only=True) as con:
        encampment = con.execute(
            "select lat, lon from requests where request_type = 'Encampment'"
        ).fetchall()
        abuse = con.execute(
            "select count(*) from requests where request_type = 'Abuse Report'"
        ).fetchone()[0]
    assert encampment == [(None, None)]
    assert abuse == 0
    with duckdb.connect(str(city.internal_path), read_only=True) as con:
        assert con.execute(
            "select count(*) from requests where request_type = 'Abuse Report'"
        ).fetchone()[0] == 1


# The tables grouped by request type that the public snapshot copies from the internal one
# (queries/snapshot/public/): without the aggregate-only types' rows.
FLOW_TABLES = ("daily_flows", "open_now", "daily_overdue")


def test_public_flow_tables_are_the_internal_ones_without_aggregate_only_types(city):
    """The public flow tables are copied from the internal snapshot, minus aggregate-only types."""
    with duckdb.connect(str(city.internal_path), read_only=True) as con:
        con.execute(f"attach '{city.public_path}' as public (read_only)")
        for table in FLOW_TABLES:
            internal = con.execute(f"select count(*) from {table}").fetchone()[0]
            hidden = con.execute(
                f"select count(*) from {table} where request_type = 'Abuse Report'"
            ).fetchone()[0]
            assert hidden > 0 or table != "daily_flows"  # the small city has one Abuse Report
            assert con.execute(
                f"select count(*) from public.{table} where request_type = 'Abuse Report'"
            ).fetchone()[0] == 0
            assert con.execute(f"select count(*) from public.{table}").fetchone()[0] == (
                internal - hidden
            )
            assert con.execute(
                f"select count(*) from (select * from {table} where request_type is distinct "
                f"from 'Abuse Report' except all select * from public.{table})"
            ).fetchone()[0] == 0


def test_version_is_build_time_and_content_hash(city):
    with connect_snapshot(city.public_path) as con:
        first = read_info(con)
    again = publish(city)
    assert again["content_hash"] == first["content_hash"]
    with duckdb.connect(str(city.store_path)) as con:
        con.execute("update requests set status = 'closed', closed_at = created_at "
                    "where request_id = '3'")
    changed = publish(city)
    assert changed["content_hash"] != first["content_hash"]
    assert changed["version"].endswith(changed["content_hash"][:12])


def test_a_crash_while_publishing_leaves_the_previous_snapshots(city, monkeypatch):
    before = {p: p.read_bytes() for p in (city.public_path, city.internal_path)}
    links = {p: os.readlink(p) for p in (city.public_path, city.internal_path)}

    def explode(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(publish_module, "_fill_public", explode)
    with pytest.raises(RuntimeError):
        publish(city)
    # both links still at the old version: the internal one is not swapped in alone
    assert city.public_path.read_bytes() == before[city.public_path]
    assert {p: os.readlink(p) for p in links} == links
    assert list(city.build_dir.glob(".*.tmp")) == []


def versions(city) -> tuple[str, str]:
    out = []
    for link in (city.internal_path, city.public_path):
        with connect_snapshot(link) as con:
            out.append(read_info(con)["version"])
    return tuple(out)


def test_a_kill_between_the_two_swaps_is_mended_by_the_next_run(city, monkeypatch):
    """Killed after the internal link moved and before the public one: the next publish (or
    align_links alone) points both at the newer version, whose two files are complete."""
    old = versions(city)
    assert old[0] == old[1]
    real_swap = publish_module._swap_in
    calls = []

    def killed_on_second_swap(link, versioned):
        calls.append(link)
        if len(calls) == 2:
            raise SystemExit("kill -9")
        real_swap(link, versioned)

    with duckdb.connect(str(city.store_path)) as con:
        con.execute("delete from requests where request_id = '1'")
    monkeypatch.setattr(publish_module, "_swap_in", killed_on_second_swap)
    with pytest.raises(SystemExit):
        publish(city)
    monkeypatch.undo()
    internal, public = versions(city)
    assert internal != public and public == old[1]
    assert publish_module.align_links(city) == internal
    assert versions(city) == (internal, internal)
    info = publish(city)
    assert versions(city) == (info["version"], info["version"])


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_swapped_in(city):
    with connect_snapshot(city.public_path) as reader:
        old = read_info(reader)["version"]
        publish(city)
        assert reader.execute("select count(*) from requests").fetchone()[0] > 0
        assert read_info(reader)["version"] == old


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "copy requests to '/tmp/civicstat-leak.csv'",
        "attach '/tmp/civicstat-other.duckdb' as other",
        "set enable_external_access = true",
        "set threads = 1",
        "install spatial",
        "create table x as select 1",
    ],
)
def test_public_connection_cannot_read_files_or_change_settings(city, statement):
    with connect_snapshot(city.public_path) as con:
        with pytest.raises(duckdb.Error):
            con.execute(statement)


def test_a_process_that_has_the_old_snapshot_open_can_open_the_new_one(city):
    """DuckDB keeps one database per file path in a process: each version gets its own file."""
    with connect_snapshot(city.public_path) as old_reader:
        before = old_reader.execute("select count(*) from requests").fetchone()[0]
        with duckdb.connect(str(city.store_path)) as con:
            con.execute("delete from requests where request_id = '1'")
        publish(city)
        with connect_snapshot(city.public_path) as new_reader:
            assert new_reader.execute("select count(*) from requests").fetchone()[0] == before - 1
        assert old_reader.execute("select count(*) from requests").fetchone()[0] == before


def test_only_the_newest_versions_are_kept(city):
    for request_id in ("1", "2", "3"):
        with duckdb.connect(str(city.store_path)) as con:
            con.execute("delete from requests where request_id = ?", [request_id])
        publish(city)
    versions = list(city.build_dir.glob("public-*.duckdb"))
    assert len(versions) == 2
    assert city.public_path.is_symlink() and city.public_path.resolve() in versions


def test_an_empty_store_publishes(tmp_path):
    """No requests yet: the as-of time is NULL (bound, typed), every model is still built."""
    city = make_small_city(tmp_path, rows=[])
    info = publish(city)
    assert info["as_of"] is None and info["count_requests"] == 0
    with connect_snapshot(city.internal_path) as con:
        assert con.execute("select count(*) from type_typical_times").fetchone()[0] == 0
    with connect_snapshot(city.public_path) as con:
        assert con.execute(
            "select count(*) from scoped_type_flows(null, null, null, null, null)"
        ).fetchone()[0] == 0


def test_a_killed_publish_leaves_nothing_behind_after_the_next_one(city):
    """A publish killed before its swap leaves its temporary files (tens of MB each at scale);
    the next publish removes those of dead processes, and keeps a running one's."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    build = city.build_dir
    (build / ".publish-spill").mkdir(exist_ok=True)
    leftovers = [build / f".public.duckdb.{dead.pid}.tmp", build / f".public.duckdb.{dead.pid}.tmp.wal",
                 build / f".internal.duckdb.{dead.pid}.link",
                 build / ".publish-spill" / "duckdb_temp_storage-0.tmp"]
    for path in leftovers:
        path.write_bytes(b"x" * 1024)
    publish(city)
    assert [p for p in leftovers if p.exists()] == []
    for link in (city.internal_path, city.public_path):
        with connect_snapshot(link) as con:
            assert read_info(con)["count_requests"] > 0

    running = build / f".internal.duckdb.{os.getppid()}.tmp"  # a live process's: not ours
    running.write_bytes(b"x")
    publish(city)
    assert running.exists()
    running.unlink()
