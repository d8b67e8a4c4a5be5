"""The shared ingest pipeline: accounting, quarantine, flags, normalisation, upserts, crashes."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from civicstat.ingest.pipeline import PAUSE_ENV, ingest_files
from civicstat.ingest.sources.base import InputError

from citykit import CENTRES, OUTSIDE, FrameAdapter, make_city, placeholder_file, stub_publish

PROJECT = Path(__file__).resolve().parent.parent
MAPPING = Path(__file__).resolve().parent / "fixtures" / "mapping" / "springfield.toml"
C1, C4 = CENTRES["1"], CENTRES["4"]


@pytest.fixture
def published(monkeypatch):
    return stub_publish(monkeypatch)


def rec(rid, created="2024-03-01 09:00", **values):
    """A record, in district 1 unless it says where."""
    return {"request_id": rid, "created_at": created, "lat": C1[0], "lon": C1[1], **values}


def run(city, tmp_path, records, frame_rows=1000, name="input.csv"):
    return ingest_files(city, [placeholder_file(tmp_path, name)],
                        FrameAdapter(records, frame_rows=frame_rows))


def rows(city, columns="*"):
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        cursor = con.execute(f"select {columns} from requests order by request_id")  # noqa: S608
        names = [d[0] for d in cursor.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()


def query(city, sql, params=None):
    con = duckdb.connect(str(city.store_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def identity(summary):
    return summary.read == (summary.inserted + summary.updated + summary.unchanged
                            + summary.rejected)


MIXED = [
    rec("1", status="open", request_type="Pothole"),
    rec("2", closed_at="2024-03-01 08:00", status="closed", lat=C4[0], lon=C4[1]),
    rec("3", status="Weird", closed_at="2024-03-03", lat=0.0, lon=0.0, source_district="9"),
    rec(None),
    rec("  "),
    rec("6", created="not a date"),
    rec("7", lat=OUTSIDE[0], lon=OUTSIDE[1]),
    rec("8", source_district="Ward 04", lat=None, lon=None),
    {**rec("9"), "_reject": "unreadable line: 3 fields, expected 5"},
]


def test_accounting_identity_and_quarantine(tmp_path, published):
    city = make_city(tmp_path)
    summary = run(city, tmp_path, MIXED, frame_rows=4)
    assert identity(summary)
    assert (summary.read, summary.inserted, summary.rejected) == (9, 5, 4)
    assert summary.rejected_by_reason == {
        "no_created_at": 1, "no_id": 2, "unreadable line: 3 fields, expected 5": 1}
    quarantined = query(city, "select run_id, file, line, reason, raw from quarantine order by line")
    assert [(q[2], q[3]) for q in quarantined] == [
        (5, "no_id"), (6, "no_id"), (7, "no_created_at"),
        (10, "unreadable line: 3 fields, expected 5")]
    assert all(q[0] == summary.run_id for q in quarantined)
    assert all(q[1] == str((tmp_path / "input.csv").resolve()) for q in quarantined)
    assert json.loads(quarantined[2][4])["created_at"] == "not a date"
    assert len(published) == 1
    [logged] = query(city, "select count_read, count_inserted, count_rejected, rejected_by_reason "
                           "from ingest_runs")
    assert logged[:3] == (9, 5, 4) and json.loads(logged[3])["no_id"] == 2


def test_flags_and_normalisation(tmp_path, published):
    city = make_city(tmp_path)
    run(city, tmp_path, MIXED)
    stored = rows(city)
    assert stored["1"]["flags"] == [] and stored["1"]["district"] == "1"
    assert stored["1"]["neighborhood"] == "West"
    assert stored["2"]["flags"] == ["closed_before_created"]
    assert stored["3"]["flags"] == ["placeholder_coordinates", "unknown_district",
                                    "unknown_status"]
    assert stored["3"]["status"] == "closed"  # inferred from closed_at
    assert stored["3"]["district"] is None  # the source's "9" names no area of the layer
    assert stored["7"]["flags"] == ["outside_city"] and stored["7"]["district"] is None
    # no coordinates: the source's district, when it names an area ("Ward 04" is "4")
    assert stored["8"]["flags"] == ["no_coordinates"] and stored["8"]["district"] == "4"


def test_status_closure_channel_and_due_dates(tmp_path, published):
    city = make_city(tmp_path, default_hours=48, target_hours={"Pothole": 72})
    run(city, tmp_path, [
        rec("a", status="Open", closed_at="2024-03-02", closure="resolved", channel="ONLINE",
            request_type="Pothole"),
        rec("b", status="closed", closed_at="2024-03-02", channel="Fax", request_type="Other",
            due_at="2024-03-10 12:00"),
        rec("c", status="closed", closed_at="2024-03-02", closure="Duplicate", channel="mobile"),
        rec("d", status="closed", closure="Withdrawn", channel="walk-in"),
        rec("e"),
    ])
    stored = rows(city)
    a, b, c, d, e = (stored[k] for k in "abcde")
    assert (a["status"], a["closed_at"], a["closure"], a["channel"]) == ("open", None, None, "web")
    assert str(a["due_at"]) == "2024-03-04 09:00:00"  # Pothole: 72 h
    assert (b["closure"], b["channel"], str(b["due_at"])) == (
        "resolved", "other", "2024-03-10 12:00:00")  # the source's due date is kept
    assert (c["closure"], c["channel"]) == ("duplicate", "app")
    assert (d["status"], d["closure"], d["closed_at"], d["channel"]) == (
        "closed", "other", None, "walk-in")
    assert (e["status"], e["channel"], str(e["due_at"])) == ("open", None, "2024-03-03 09:00:00")
    assert e["source"] == "frames:input.csv"


def test_replay_changes_nothing(tmp_path, published):
    city = make_city(tmp_path)
    first = run(city, tmp_path, MIXED)
    before = rows(city)
    again = run(city, tmp_path, MIXED)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (
        0, 0, first.inserted, first.rejected)
    assert rows(city) == before
    assert query(city, "select count(*) from quarantine") == [(first.rejected,)]
    # a run that changes nothing is not recorded and republishes nothing (issue 16, item 8)
    assert query(city, "select count(*) from ingest_runs") == [(1,)]
    assert not again.changed and again.published is None and len(published) == 1


def test_newer_version_updates_and_older_never_overwrites(tmp_path, published):
    city = make_city(tmp_path)
    old = [rec("1", updated_at="2024-03-01 09:00", status="open"),
           rec("2", status="open")]
    new = [rec("1", updated_at="2024-03-05 10:00", status="closed",
               closed_at="2024-03-05 10:00"),
           rec("2", status="closed", closed_at="2024-03-04")]  # no updated_at: closed_at counts
    run(city, tmp_path, old)
    summary = run(city, tmp_path, new)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 2, 0)
    stored = rows(city)
    assert stored["1"]["status"] == "closed" and stored["2"]["status"] == "closed"
    assert stored["1"]["run_id"] == summary.run_id
    stale = run(city, tmp_path, old)
    assert (stale.inserted, stale.updated, stale.unchanged) == (0, 0, 2)
    assert rows(city) == stored


def test_same_version_with_different_content_updates(tmp_path, published):
    city = make_city(tmp_path)
    run(city, tmp_path, [rec("1", updated_at="2024-03-02", department="Streets")])
    summary = run(city, tmp_path, [rec("1", updated_at="2024-03-02", department="Roads")])
    assert summary.updated == 1
    assert rows(city)["1"]["department"] == "Roads"


def test_duplicate_id_in_file_keeps_newest_and_is_flagged(tmp_path, published):
    city = make_city(tmp_path)
    records = [
        rec("1", updated_at="2024-03-02", status="open", department="first"),
        rec("2"),
        rec("1", updated_at="2024-03-05", status="closed", closed_at="2024-03-05",
            department="newest"),
        rec("1", updated_at="2024-03-03", status="open", department="middle"),
    ]
    summary = run(city, tmp_path, records, frame_rows=2)  # duplicates in different frames
    assert (summary.read, summary.inserted, summary.unchanged) == (4, 2, 2)
    assert identity(summary)
    one = rows(city)["1"]
    assert one["department"] == "newest" and one["flags"] == ["duplicate_id_in_file"]
    assert summary.flagged == {"duplicate_id_in_file": 1}


def test_two_files_in_one_run(tmp_path, published):
    city = make_city(tmp_path)
    first = placeholder_file(tmp_path, "jan.csv")
    second = placeholder_file(tmp_path, "feb.csv")

    class TwoFiles(FrameAdapter):
        def read(self, path, timezone):
            version = "2024-03-01" if path.name == "jan.csv" else "2024-03-09"
            self.records = [rec("1", updated_at=version), rec(path.name)]
            return super().read(path, timezone)

    summary = ingest_files(city, [first, second], TwoFiles([]))
    assert (summary.read, summary.inserted, summary.updated) == (4, 3, 1)
    assert len(published) == 1
    assert str(rows(city)["1"]["updated_at"]) == "2024-03-09 00:00:00"


def test_information_only_calls_are_flagged(tmp_path, published):
    city = make_city(tmp_path)
    run(city, tmp_path, [{**rec("1"), "is_information_only": True}, rec("2")])
    stored = rows(city)
    assert stored["1"]["flags"] == ["information_only"] and stored["2"]["flags"] == []


def test_failure_mid_run_leaves_store_unchanged(tmp_path, published):
    city = make_city(tmp_path)
    run(city, tmp_path, MIXED)
    before = rows(city)

    class Broken(FrameAdapter):
        def read(self, path, timezone):
            yield from list(super().read(path, timezone))[:1]
            raise InputError("not a frames export: missing required columns x")

    with pytest.raises(InputError, match="missing required columns"):
        ingest_files(city, [placeholder_file(tmp_path)],
                     Broken([rec("new1"), rec("new2")], frame_rows=1))
    assert rows(city) == before
    assert query(city, "select count(*) from ingest_runs") == [(1,)]
    assert len(published) == 1  # only the first run published


def test_missing_file_is_an_input_error(tmp_path, published):
    city = make_city(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        ingest_files(city, [tmp_path / "nope.csv"], FrameAdapter([]))
    assert not published


def test_progress_reports_lines(tmp_path, published):
    city = make_city(tmp_path)
    path = tmp_path / "lines.csv"
    path.write_text("h\n" + "x\n" * 10)
    seen = []
    ingest_files(city, [path], FrameAdapter([rec(str(i)) for i in range(10)], frame_rows=3),
                 progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (11, 11)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_publish_is_called_after_commit(tmp_path, monkeypatch):
    city = make_city(tmp_path)
    seen = []

    def publish(c):
        # the store is committed and closed: a read-only connection sees the rows
        seen.append(query(c, "select count(*) from requests")[0][0])
        return {"version": "v"}

    import civicstat.publish.build

    monkeypatch.setattr(civicstat.publish.build, "publish", publish)
    summary = run(city, tmp_path, MIXED)
    assert seen == [5] and summary.published == {"version": "v"}


# --- a crash inside the transaction ---------------------------------------------------------


def _springfield_csv(path: Path, records: list[tuple[str, str, str, str]]) -> Path:
    """Rows for the springfield mapping: (id, opened, closed, status)."""
    header = ["Case Number", "Date Opened", "Date Closed", "Last Modified", "SLA Due",
              "Case Status", "Close Reason", "Dept", "Request Type", "Service Area", "Source",
              "Lat", "Long", "Street Address", "ZIP", "Details", "Resolution Notes", "Ward"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for rid, opened, closed, status in records:
            writer.writerow([rid, opened, closed, closed or opened, "", status, "", "Works",
                             "Pothole", "Streets", "Web Form", C1[0], C1[1], "", "", "", "",
                             ""])
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(city_root: Path, csv_path: Path, env: dict) -> subprocess.Popen:
    code = "import sys; from civicstat.cli.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, "ingest", str(city_root), str(csv_path),
         "--mapping", str(MAPPING), "--json"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_inside_the_transaction_leaves_store_and_snapshots(tmp_path):
    city = make_city(tmp_path)
    opened = "03/01/2024 09:00 AM"
    v1 = _springfield_csv(tmp_path / "v1.csv",
                          [(f"S{i}", opened, "", "Open") for i in range(300)])
    v2 = _springfield_csv(tmp_path / "v2.csv",
                          [(f"S{i}", opened, "03/05/2024 10:00 AM", "Closed")
                           for i in range(300)]
                          + [(f"N{i}", opened, "", "Open") for i in range(100)])
    first = _cli(city.root, v1, dict(os.environ))
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    snapshots = {p: _digest(p) for p in (city.internal_path, city.public_path)}
    before = rows(city)
    runs_before = query(city, "select count(*) from ingest_runs")

    marker = tmp_path / "paused"
    crashing = _cli(city.root, v2, {**os.environ, PAUSE_ENV: str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert crashing.poll() is None, crashing.communicate()
        assert time.monotonic() < deadline, "ingest never reached the commit"
        time.sleep(0.05)
    os.kill(crashing.pid, signal.SIGKILL)
    crashing.communicate(timeout=30)
    assert crashing.returncode == -signal.SIGKILL

    assert rows(city) == before
    assert query(city, "select count(*) from ingest_runs") == runs_before
    assert {p: _digest(p) for p in snapshots} == snapshots

    rerun = _cli(city.root, v2, dict(os.environ))
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    counts = json.loads(out)
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (100, 300, 0)
    assert rows(city, "request_id, status")["S1"]["status"] == "closed"
    assert _digest(city.public_path) != snapshots[city.public_path]


def test_implausible_dates_are_flagged_and_never_move_the_as_of(tmp_path):
    """One record dated 2099 (or 1900) is kept but flagged, and the published as-of stays the
    latest plausible time, so the default periods still show the city's data."""
    from civicstat.core.city import load_city
    from civicstat.publish.build import publish

    city = make_city(tmp_path)
    summary = ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter([
        rec("1", "2024-03-01 09:00"),
        rec("2", "2024-03-05 10:30", closed_at="2024-03-06 08:00", status="closed"),
        rec("future", "2099-01-01 00:00"),
        rec("closed-in-future", "2024-03-02 09:00", closed_at="2099-06-01 00:00", status="closed"),
        rec("ancient", "1900-01-01 00:00"),
    ]), publish_after=False)
    stored = rows(city)
    assert stored["future"]["flags"] == ["date_in_future"]
    assert stored["closed-in-future"]["flags"] == ["date_in_future"]
    assert stored["ancient"]["flags"] == ["date_before_earliest"]
    assert stored["1"]["flags"] == [] and stored["2"]["flags"] == []
    assert summary.flagged == {"date_in_future": 2, "date_before_earliest": 1}
    info = publish(load_city(city.root))
    assert str(info["as_of"]) == "2024-03-06 08:00:00"


def test_earliest_plausible_date_comes_from_city_toml(tmp_path):
    city = make_city(tmp_path)
    (city.root / "city.toml").write_text(
        (city.root / "city.toml").read_text() + '\n[quality]\nearliest_date = "2020-01-01"\n')
    from civicstat.core.city import load_city

    city = load_city(city.root)
    ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter([
        rec("old", "2019-12-31 23:00"), rec("new", "2020-01-01 00:00"),
    ]), publish_after=False)
    stored = rows(city)
    assert stored["old"]["flags"] == ["date_before_earliest"] and stored["new"]["flags"] == []


def test_only_usable_locations_are_published(tmp_path):
    """A longitude of inf, a (0, 0) placeholder and a point outside the city are kept (flagged)
    in the store and the internal snapshot, but never published."""
    from civicstat.core.city import load_city
    from civicstat.publish.build import publish

    city = make_city(tmp_path)
    ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter([
        rec("inside"), rec("inf", lon=float("inf")), rec("zero", lat=0.0, lon=0.0),
        rec("outside", lat=OUTSIDE[0], lon=OUTSIDE[1]),
    ]), publish_after=False)
    publish(load_city(city.root))
    with duckdb.connect(str(city.public_path), read_only=True) as con:
        found = con.execute("select request_id, lat, lon from requests").fetchall()
    public = {r[0]: r[1:] for r in found}
    assert public["inside"] == (round(C1[0], 3), round(C1[1], 3))
    assert public["inf"] == public["zero"] == public["outside"] == (None, None)
    with duckdb.connect(str(city.internal_path), read_only=True) as con:
        flagged = dict(con.execute("select request_id, flags from requests").fetchall())
    assert flagged["inf"] == ["no_coordinates"] and flagged["outside"] == ["outside_city"]


def test_the_next_run_publishes_what_a_killed_one_committed(tmp_path):
    """An ingest killed after its commit and before its publish (here: publish_after=False)
    leaves the app on the old data; the next run publishes it even when it changes nothing."""
    from civicstat.publish.build import snapshots_behind
    from civicstat.serve.snapshots import connect_snapshot, read_info

    city = make_city(tmp_path)
    run(city, tmp_path, [rec("1")])  # published
    assert not snapshots_behind(city)
    ingest_files(city, [placeholder_file(tmp_path)], FrameAdapter([rec("1"), rec("2")]),
                 publish_after=False)
    assert snapshots_behind(city)
    again = run(city, tmp_path, [rec("1"), rec("2")])
    assert not again.changed and again.published is not None
    with connect_snapshot(city.public_path) as con:
        assert read_info(con)["count_requests"] == 2
    assert not snapshots_behind(city)
    quiet = run(city, tmp_path, [rec("1"), rec("2")])
    assert quiet.published is None  # up to date: nothing republished
