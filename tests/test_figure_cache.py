"""Built figures are reused for equal inputs and rebuilt for different ones (figure_cache)."""

from __future__ import annotations

import json

import pandas as pd

from civicstat.web import maps
from civicstat.web.figure_cache import cached_figure

BUILDS: list[tuple] = []


@cached_figure
def _figure(frame: pd.DataFrame, labels: list[str], k: int) -> dict:
    BUILDS.append((len(frame), tuple(labels), k))
    return {"rows": frame["n"].tolist(), "labels": list(labels), "k": k}


def test_equal_inputs_reuse_the_built_figure_and_different_inputs_rebuild_it():
    BUILDS.clear()
    first = _figure(pd.DataFrame({"n": [1, 2, 3]}), ["a", "b"], 10)
    again = _figure(pd.DataFrame({"n": [1, 2, 3]}), ["a", "b"], 10)  # new objects, same content
    assert again is first and len(BUILDS) == 1
    other_rows = _figure(pd.DataFrame({"n": [1, 2, 4]}), ["a", "b"], 10)
    other_labels = _figure(pd.DataFrame({"n": [1, 2, 3]}), ["a", "c"], 10)
    other_k = _figure(pd.DataFrame({"n": [1, 2, 3]}), ["a", "b"], 11)
    assert len(BUILDS) == 4
    assert other_rows["rows"] == [1, 2, 4] and other_labels["labels"] == ["a", "c"]
    assert other_k["k"] == 11 and first == {"rows": [1, 2, 3], "labels": ["a", "b"], "k": 10}


def test_a_district_map_serializes_once_compactly_and_as_pydeck_would():
    districts = pd.DataFrame({
        "district": ["North <b>"], "center_lat": [40.0], "center_lon": [-74.0],
        "geometry_json": ['{"type": "Polygon", "coordinates": '
                          '[[[-74, 40], [-73.9, 40], [-73.9, 40.1], [-74, 40]]]}'],
        "median_days_to_close": [3.25], "count_requests": [40], "count_with_days_to_close": [30],
    })
    metric = maps.DISTRICT_METRICS["median_days_to_close"]
    deck, _ = maps.district_choropleth(districts, metric, k=10)
    spec = deck.to_json()
    assert deck.to_json() is spec
    plain = maps.pdk.Deck(
        layers=deck.layers, initial_view_state=deck.initial_view_state, map_provider=None,
        tooltip=deck._tooltip,
    )
    assert json.loads(spec) == json.loads(plain.to_json())  # the same map...
    assert "\n" not in spec and len(spec) < len(plain.to_json())  # ...without the indentation
    assert "North &lt;b&gt;" in spec and "3.2" in spec
