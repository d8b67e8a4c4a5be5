"""Commitments (issue 15): their status over a sequence of publishes on a small city, checked
against an independent computation; the store's history; two processes writing at once; a
commitment surviving a publish."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import sys
import types

import pytest

from civicstat.commitments.store import FILE_NAME, SCHEMA_VERSION, CommitmentError, CommitmentStore
from civicstat.core import commitments as rules
from civicstat.core.commitments import Commitment
from civicstat.publish.build import publish
from civicstat.serve.runner import snapshot_queries

import metrics_reference as ref
from smallcity import make_small_city

P = (40.02, -74.95)  # in D1
Q = (40.15, -74.85)  # in D4
# request_id, created, closed, due, status, closure, department, type, district, lat, lon, channel
FIRST = [
    ("S1", "2024-03-20 08:00", "2024-03-21 08:00", "2024-03-23 08:00", "closed", "resolved",
     "Streets", "Pothole", "D1", *P, "phone"),
    ("P1", "2024-03-22 08:00", "2024-03-23 08:00", "2024-03-25 08:00", "closed", "resolved",
     "Parks", "Tree", "D4", *Q, "web"),
    ("X", "2024-03-31 23:00", None, "2024-04-03 08:00", "open", None,
     "Streets", "Pothole", "D1", *P, "app"),
]
SECOND = [  # loaded after the first publish: the data now covers the due date
    ("S2", "2024-04-02 08:00", "2024-04-03 08:00", "2024-04-05 08:00", "closed", "resolved",
     "Streets", "Pothole", "D1", *P, "phone"),
    ("P2", "2024-04-05 08:00", None, "2024-04-07 08:00", "open", None,
     "Parks", "Tree", "D4", *Q, "web"),
    ("P3", "2024-04-06 08:00", None, "2024-04-08 08:00", "open", None,
     "Parks", "Tree", "D4", *Q, "web"),
    ("H1", "2024-04-20 10:00", None, "2024-04-25 10:00", "open", None,
     "Health", "Inspection", "D2", 40.05, -74.85, "phone"),
]
DUE = dt.date(2024, 4, 15)


def judge_all(city, store: CommitmentStore) -> tuple[dict, list[rules.Judgement]]:
    with snapshot_queries(city.internal_path, "internal") as (info, query):
        return info, [rules.judge(c, info["as_of"], query, city.goals) for c in store.list()]


def reference_rate(city, department: str, end_day: dt.date, days: int) -> float | None:
    """The on-time rate over the window, computed in pandas from the snapshot's requests."""
    frame = ref.load(city.internal_path)
    with snapshot_queries(city.internal_path, "internal") as (info, _):
        as_of = info["as_of"]
    start, end, _ = rules.window(end_day, days)
    return ref.figures(ref.select(frame, department=department), start, end, as_of)["on_time_rate"]


def expected_status(rate_now, rate_at_due, target: float, covered: bool) -> str:
    if covered:
        return "met" if rate_at_due is not None and rate_at_due >= target else "missed"
    if rate_now is None:
        return "no_figure"
    return "on_track" if rate_now >= target else "at_risk"


def test_status_over_publishes(tmp_path):
    """on track → met (Streets) and on track → missed (Parks), each status and figure as an
    independent pandas computation of the same definition gives it; both survive the publishes."""
    city = make_small_city(tmp_path, rows=FIRST)
    publish(city)
    store = CommitmentStore(tmp_path)
    made = {}
    with snapshot_queries(city.internal_path, "internal") as (info, query):
        for department in ("Streets", "Parks"):
            c = Commitment(department=department, metric="on_time_rate", target=0.5, due_date=DUE,
                           owner=f"{department} director", note="agreed at the March meeting")
            made[department] = store.add(rules.with_baseline(c, info["as_of"], query, city.goals),
                                         actor="sam")

    statuses, baselines = {}, {}
    for step, rows in enumerate((None, SECOND)):
        if rows:
            make_small_city(tmp_path, rows=rows)
            publish(city)
        info, judged = judge_all(city, CommitmentStore(tmp_path))  # a fresh store: as after a restart
        as_of = info["as_of"].to_pydatetime() if hasattr(info["as_of"], "to_pydatetime") else info["as_of"]
        covered = as_of.date() > DUE
        assert covered == bool(step)
        for j in judged:
            department = j.commitment.department
            now = reference_rate(city, department, as_of.date(), 30)
            at_due = reference_rate(city, department, DUE, 30) if covered else None
            assert j.figure_now == pytest.approx(now)
            if covered:
                assert j.figure_at_due == pytest.approx(at_due)
            assert j.status == expected_status(now, at_due, 0.5, covered)
            if not step:  # the baseline is the figure when it was made, kept as it was
                baselines[department] = now
            assert j.commitment.baseline == pytest.approx(baselines[department])
            if now is not None and j.commitment.baseline is not None:
                assert j.trend == pytest.approx(now - j.commitment.baseline)
            statuses.setdefault(department, []).append(j.status)
    assert statuses == {"Streets": ["on_track", "met"], "Parks": ["on_track", "missed"]}
    assert (tmp_path / FILE_NAME).is_file() and not (tmp_path / "build" / FILE_NAME).exists()


def test_status_rule():
    c = Commitment(department="Streets", metric="median_days_to_close", target=3.0, due_date=DUE)
    before = dt.datetime(2024, 4, 15, 23, 0)  # the due day itself is not yet covered
    after = dt.datetime(2024, 4, 16, 0, 30)
    assert rules.status_of(c, before, 2.9, None) == "on_track"
    assert rules.status_of(c, before, 3.0, None) == "on_track"  # equal meets
    assert rules.status_of(c, before, 3.1, None) == "at_risk"
    assert rules.status_of(c, before, None, None) == "no_figure"
    assert rules.status_of(c, after, 9.0, 3.0) == "met"  # the due date's window decides
    assert rules.status_of(c, after, 1.0, 3.5) == "missed"
    assert rules.status_of(c, after, 1.0, None) == "missed"
    closed = Commitment(department="Streets", metric="on_time_rate", target=0.8, due_date=DUE,
                        closed=True, close_reason="merged")
    assert rules.status_of(closed, after, 0.9, 0.9) == "closed"
    with_base = Commitment(department="Streets", metric="on_time_rate", target=0.8, due_date=DUE,
                           baseline=0.7)
    assert rules.trend_of(with_base, 0.75)[1] == "better"
    assert rules.trend_of(with_base, 0.65)[1] == "worse"
    with pytest.raises(ValueError):
        Commitment(department="Streets", metric="on_time_rate", target=85, due_date=DUE)
    with pytest.raises(ValueError):
        Commitment(department="Streets", metric="no such figure", target=1, due_date=DUE)


def test_edit_close_history(tmp_path):
    store = CommitmentStore(tmp_path)
    c = store.add(Commitment(department="Parks", metric="count_overdue", target=10,
                             due_date=DUE, owner="Ana"), actor="sam")
    store.edit(c.id, {"target": 5.0, "owner": "Ben"}, actor="ada", reason="tighter")
    assert store.edit(c.id, {"target": 5.0}, actor="ada").revision == 1  # no change, no event
    with pytest.raises(CommitmentError):
        store.close(c.id, "  ", actor="ada")
    with pytest.raises(CommitmentError):
        store.edit(c.id, {"made_by": "mallory"}, actor="mallory")
    with pytest.raises(CommitmentError):
        store.edit(c.id, {"metric": "nonsense"}, actor="ada")
    store.close(c.id, "superseded by a city-wide goal", actor="ada")
    with pytest.raises(CommitmentError):
        store.close(c.id, "again", actor="ada")
    events = store.history(c.id)
    assert [(e["action"], e["actor"]) for e in events] == [
        ("made", "sam"), ("edited", "ada"), ("closed", "ada")]
    assert events[1]["details"] == {"changes": {"target": [10.0, 5.0], "owner": ["Ana", "Ben"]},
                                    "reason": "tighter"}
    assert events[2]["details"] == {"reason": "superseded by a city-wide goal"}
    got = store.get(c.id)
    assert got.closed and got.target == 5.0 and got.owner == "Ben"
    with sqlite3.connect(tmp_path / FILE_NAME) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert con.execute("select max(version) from schema_version").fetchone()[0] == SCHEMA_VERSION


def _writer(root: str, name: str, count: int, shared_id: int, start) -> None:
    store = CommitmentStore(root)
    start.wait()
    for i in range(count):
        store.add(Commitment(department="Streets", metric="on_time_rate", target=0.8,
                             due_date=DUE, owner=name, note=f"{name}-{i}"), actor=name)
        store.edit(shared_id, {"note": f"{name}-{i}"}, actor=name)


def test_two_processes_write_at_once(tmp_path, monkeypatch):
    """Two processes add commitments and edit the same one, interleaved: nothing is lost."""
    # A spawned process first runs the parent's __main__ again, and an AppTest earlier in the
    # session leaves a page script there (views/public/districts.py, which then fails in the
    # child): the children get a bare __main__.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    store = CommitmentStore(tmp_path)
    shared = store.add(Commitment(department="Parks", metric="count_open", target=3, due_date=DUE),
                       actor="setup")
    count = 60
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [context.Process(target=_writer, args=(str(tmp_path), name, count, shared.id, start))
               for name in ("one", "two")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    notes = {c.note for c in store.list() if c.id != shared.id}
    assert notes == {f"{name}-{i}" for name in ("one", "two") for i in range(count)}
    edits = [e for e in store.history(shared.id) if e["action"] == "edited"]
    assert len(edits) == 2 * count  # every edit changed the note (each name's notes differ)
    assert store.get(shared.id).revision == 2 * count
    assert len(store.history()) == 1 + 2 * count + 2 * count


def test_demo_city_records_every_status(tmp_path):
    """The demo generator's commitments show met, missed, on track, at risk and closed (judged by
    the same rule as the app); building the demo again replaces them."""
    from civicstat.core.city import load_city
    from civicstat.demo.commitments import record_demo_commitments
    from civicstat.demo.generator import build_demo

    build_demo(tmp_path, rows=30_000)
    city = load_city(tmp_path)
    publish(city)
    judged = record_demo_commitments(city)
    assert {j.status for j in judged} == {"met", "missed", "on_track", "at_risk", "closed"}
    info, again = judge_all(city, CommitmentStore(tmp_path))
    assert [j.status for j in again] == [j.status for j in judged]
    assert all(j.commitment.made_by == "demo" and j.commitment.baseline is not None for j in again)
    record_demo_commitments(city)
    assert len(CommitmentStore(tmp_path).list()) == len(judged)
