"""The scorecard shows its reasons (issue 13, item 5), AppTest on a hand-made city:

- the status names the metric that sets it, and that metric's cell has the status's colour
  (Forestry read "Off target" beside a green median: its on-time rate, off screen, set it);
- a score resting on 1–4 requests carries a warning (scorecard.FEW_REQUESTS);
- "where": the department × district grid equals an independent pandas computation;
- an overdue-only list of a chosen type: a link to the Backlog page with its filters in the URL.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from test_app_scorecards import open_scorecards

from civicstat.core import figures, scorecard
from civicstat.web import staff_ui

from citykit import CENTRES, FrameAdapter, make_city, placeholder_file

pytestmark = pytest.mark.usefixtures("release_snapshots")
NOW = dt.datetime.now().replace(microsecond=0, second=0, minute=0)


def _records() -> list[dict]:
    """Forestry (Tree, target 10 days): 6 requests closed in half a day, 4 of them after a due
    date the source set 2 hours after creation: median green, on time 2/6 red. Works (Graffiti,
    3 days): 3 requests closed in a day, on time: green, on 3 requests. Streets (Pothole, 3 days):
    8 requests closed in a day, 2 of them late, and 2 open past due."""
    def at(days_ago: float) -> str:
        return (NOW - dt.timedelta(days=days_ago)).isoformat(sep=" ")

    def base(district: str) -> dict:
        lat, lon = CENTRES[district]
        return {"category": "General", "channel": "web", "lat": lat, "lon": lon}

    records = []
    for i in range(6):
        created = 10 + i
        records.append({
            **base("1" if i < 3 else "2"), "request_id": f"F-{i}", "department": "Forestry",
            "request_type": "Tree", "created_at": at(created), "status": "closed",
            "closed_at": at(created - 0.5),
            "due_at": at(created - (1 if i in (0, 3) else 2 / 24)),
        })
    for i in range(3):
        records.append({
            **base("3"), "request_id": f"W-{i}", "department": "Works", "request_type": "Graffiti",
            "created_at": at(20 + i), "status": "closed", "closed_at": at(19 + i),
        })
    for i in range(8):
        records.append({
            **base("3" if i < 4 else "4"), "request_id": f"S-{i}", "department": "Streets",
            "request_type": "Pothole", "created_at": at(30 + i), "status": "closed",
            "closed_at": at(29 + i - (3 if i in (1, 6) else 0)),
        })
    for i in range(2):
        records.append({
            **base("4"), "request_id": f"SO-{i}", "department": "Streets",
            "request_type": "Pothole", "created_at": at(15 + i), "status": "open",
        })
    return records


@pytest.fixture(scope="module")
def reasons_city(tmp_path_factory) -> Path:
    from civicstat.core.city import load_city
    from civicstat.ingest.pipeline import ingest_files

    root = tmp_path_factory.mktemp("reasons")
    city = make_city(root, target_hours={"Tree": 240, "Graffiti": 72, "Pothole": 72})
    city = load_city(city.root)
    ingest_files(city, [placeholder_file(root, "requests.csv")], FrameAdapter(_records()))
    return city.root


def _rows(app) -> dict[str, dict]:
    table = app.dataframe[0].value
    return {row.iloc[0]: row.to_dict() for _, row in table.iterrows()}


def _fills(app, index: int = 0) -> dict[tuple[int, int], str]:
    """(row, column) -> background colour of the styled table `index`, from its CSS."""
    css = app.dataframe[index].proto.arrow_data.styler.styles
    fills = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        colour = re.search(r"background-color:\s*(#[0-9a-fA-F]{6})", body)
        if colour:
            for row, col in re.findall(r"row(\d+)_col(\d+)", selectors):
                fills[(int(row), int(col))] = colour.group(1)
    return fills


def test_the_status_names_the_metric_whose_colour_it_takes(reasons_city, monkeypatch):
    app = open_scorecards(reasons_city, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    rows = _rows(app)
    forestry = rows["Forestry"]["Status"]
    assert forestry.startswith(scorecard.STATUS_LABELS["red"])
    assert forestry == f"{scorecard.STATUS_LABELS['red']}: on time", forestry
    assert "median" not in forestry
    # the cells on screen agree: On time red (the status named it), Median days green
    table = app.dataframe[0].value
    columns = list(table.columns)
    row = list(table.iloc[:, 0]).index("Forestry")
    fills = _fills(app)
    assert fills[(row, columns.index("Status"))] == staff_ui.STATUS_FILL["red"]
    assert fills[(row, columns.index("On time"))] == staff_ui.STATUS_FILL["red"]
    assert fills[(row, columns.index("Median days"))] == staff_ui.STATUS_FILL["green"]
    # every named metric's cell has the status's colour, on every row
    named_columns = {"on time": "On time", "median": "Median days"}
    for index, status_words in enumerate(table["Status"]):
        status_fill = fills.get((index, columns.index("Status")))
        for words, label in named_columns.items():
            if re.search(rf": .*\b{words}\b", status_words):
                assert fills[(index, columns.index(label))] == status_fill, status_words


def test_a_score_on_fewer_than_five_requests_is_flagged(reasons_city, monkeypatch):
    app = open_scorecards(reasons_city, monkeypatch)
    rows = _rows(app)
    assert rows["Works"]["Status"] == (
        f"{scorecard.STATUS_LABELS['green']} {scorecard.FEW_MARK} 3")
    assert scorecard.FEW_MARK not in rows["Streets"]["Status"]  # 8 due, 8 closed
    assert scorecard.FEW_MARK not in rows["Forestry"]["Status"]  # 6 and 6
    assert any(scorecard.FEW_NOTE in c.value for c in app.caption)
    assert [scorecard.is_few(n) for n in (0, 1, 4, 5)] == [False, True, True, False]


def test_the_scorecard_table_keeps_the_targets_and_moves_the_changes_below(reasons_city,
                                                                         monkeypatch):
    app = open_scorecards(reasons_city, monkeypatch)
    main, changes = app.dataframe[0].value, app.dataframe[1].value
    assert {"Status", "On time", "Goal", "Open", "Overdue", "Median days", "Target"} <= set(main)
    assert not [c for c in main.columns if c.startswith("±")]
    assert {"Score", "± requests", "± on time", "± open", "± overdue"} <= set(changes)
    assert len(main.columns) <= 10


def _reference(metric: str) -> dict[tuple[str, str], float]:
    """GUIDE.md's definitions, straight from the records: on-time = closed by due_at of those
    closed or open and past due (as of the latest time in the data); median days to close."""
    frame = pd.DataFrame(_records())
    where = {centre: name for name, centre in CENTRES.items()}  # the district of each point
    frame["district"] = [where[(lat, lon)] for lat, lon in zip(frame["lat"], frame["lon"],
                                                               strict=True)]
    for column in ("created_at", "closed_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column])
    as_of = frame[["created_at", "closed_at"]].max().max()
    targets = {"Tree": 240, "Graffiti": 72, "Pothole": 72}
    frame["due_at"] = frame["due_at"].fillna(
        frame["created_at"] + pd.to_timedelta(frame["request_type"].map(targets), unit="h"))
    closed = frame["closed_at"].notna()
    frame["days"] = (frame["closed_at"] - frame["created_at"]).dt.total_seconds() / 86400
    frame["due"] = closed | (frame["due_at"] < as_of)
    frame["on_time"] = closed & (frame["closed_at"] <= frame["due_at"])
    out = {}
    for (dept, district), rows in frame.groupby(["department", "district"]):
        if metric == "on_time_rate":
            out[(dept, district)] = rows["on_time"].sum() / rows["due"].sum()
        else:
            out[(dept, district)] = rows.loc[rows["closed_at"].notna(), "days"].median()
    return out


@pytest.mark.parametrize("metric", ["on_time_rate", "median_days_to_close"])
def test_departments_by_district_match_pandas(reasons_city, monkeypatch, metric):
    app = open_scorecards(reasons_city, monkeypatch, where=scorecard.GRID_METRICS[metric][0])
    assert not app.exception, [e.value for e in app.exception]
    grid = next(d.value for d in app.dataframe
                if "Department" in d.value.columns and "1" in d.value.columns)
    want = _reference(metric)
    got = {}
    for _, row in grid.iterrows():
        for district in grid.columns[1:]:
            if row[district]:
                got[(row["Department"], district)] = row[district]
    assert set(got) == set(want)
    for key, value in want.items():
        written = f"{value:.0%}" if metric == "on_time_rate" else figures.duration(value)
        assert got[key].split(" ")[0] == written.split(" ")[0], (key, got[key], value)
    if metric == "on_time_rate":  # the status in words beside the colour, the scorecard's rule
        assert got[("Forestry", "1")] == "33% ○ ⚠"
        assert got[("Works", "3")] == "100% ● ⚠"
        assert grid.columns[1:].tolist() == ["1", "2", "3", "4"]


def test_a_chosen_type_links_to_its_overdue_requests(reasons_city, monkeypatch):
    app = open_scorecards(reasons_city, monkeypatch, department="Streets",
                          request_type="Pothole")
    assert not app.exception, [e.value for e in app.exception]
    links = [link for link in app.get("page_link") if "overdue" in link.proto.label]
    assert links, "no link to the overdue requests"
    link = links[0].proto
    assert link.page.endswith("backlog") or "backlog" in link.page
    assert "2 overdue requests of Pothole" in link.label
    assert "request_type=Pothole" in link.query_string and "department=Streets" in \
        link.query_string
