"""Public charts as images for newsletters (issue 15, item 4): every public Plotly chart carries
its title, the period with its dates, the filters, the as-of date, "Source: CivicStat, <city>"
and the k rule in the figure itself, and offers one toolbar button, Plotly's PNG download, named
for the chart; a withheld figure stays withheld in the figure the image is drawn from."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from civicstat.core import privacy
from civicstat.core.city import load_city
from civicstat.publish.build import publish

from smallcity import make_small_city
from test_support import run_public_page

PAGES = {  # page -> (URL parameters, charts it draws on the small city)
    "public/overview.py": ({"period": "90d"}, 3),
    "public/trends.py": ({"period": "90d"}, 5),
    "public/districts.py": ({"period": "90d", "district": "D1"}, 1),
}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    make_small_city(root)
    info = publish(load_city(root))
    return root, info


def charts_of(app) -> list[tuple[dict, dict]]:
    """(figure spec, plotly config) of every Plotly chart the page drew."""
    found = []
    for element in app.get("plotly_chart"):
        proto = element.proto
        found.append((json.loads(proto.spec), json.loads(proto.config)))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_public_chart_carries_its_context(city, monkeypatch, page, release_snapshots):
    root, info = city
    monkeypatch.setenv("CIVICSTAT_CITY", str(root))
    as_of = info["as_of"]
    last_day = f"{as_of:%d %b %Y}"  # the 90 days end with the as-of day
    params, expected = PAGES[page]
    app = run_public_page(page, **params, channel="phone")
    drawn = charts_of(app)
    assert len(drawn) == expected
    for spec, config in drawn:
        title = spec["layout"]["title"]["text"]
        assert "Source: CivicStat, Smallville" in title
        assert "Last 90 days (" in title and f" – {last_day})" in title
        assert "Channel: phone" in title
        assert f"Data as of {as_of:%d %B %Y, %H:%M}" in title
        rule = privacy.rule_text(3).capitalize()  # the k rule, as the pages state it (wrapped)
        assert rule in title.replace("<br>", " ")
        if page == "public/districts.py":
            assert "District: D1" in title
        assert config["modeBarButtons"] == [["toImage"]]
        options = config["toImageButtonOptions"]
        assert options["format"] == "png" and options["filename"].startswith("smallville-")
        assert spec["layout"]["height"] == options["height"]


def test_framing_a_shared_figure_from_many_sessions_at_once():
    """Cached figures are shared by every session: framing one from 8 threads at once (as 8
    visitors' reruns do) must not fail (go.Figure(fig) did, in most copies)."""
    import threading

    import plotly.graph_objects as go

    from civicstat.web.chart_images import ChartContext, framed

    shared = go.Figure(go.Bar(x=[5, 7], y=["a", "b"], orientation="h", text=["5", "7"],
                              textposition="outside"))
    shared.add_trace(go.Scatter(x=[1, 2], y=[3, 4], mode="lines+markers"))
    ctx = ChartContext(city="Smallville", period="Last 30 days", filters="",
                       as_of=dt.datetime(2024, 3, 30), k=3)
    errors: list[str] = []

    def frame_many() -> None:
        for _ in range(100):
            try:
                framed(shared, "Requests", ctx).to_json()
            except Exception as error:  # noqa: BLE001 (any failure is the finding)
                errors.append(repr(error)[:120])

    threads = [threading.Thread(target=frame_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [trace.type for trace in framed(shared, "Requests", ctx).data] == ["bar", "scatter"]
