"""Districts shown by their labels (city.toml [districts]) and maps with context and no third
parties (issue 13, items 7 and 8): the one label function, the labels and the base-map style
carried in the published snapshot's info, district names on every map, the city's base map on
every deck when it configured one and none otherwise, the greys of the legend, and the pages'
pickers, headings, tables and tooltips on the small city (AppTest)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest

from civicstat.core.city import CityConfigError, DistrictLabels, load_city
from civicstat.publish.build import publish
from civicstat.serve.snapshots import connect_snapshot, read_info
from civicstat.web import maps

from smallcity import make_small_city
from test_support import run_public_page

STYLE = "https://tiles.example.org/style.json"
LABELS = """
[districts]
label = "Council District {}"
[districts.labels]
D4 = "Riverside (D4)"

[map]
style = "https://tiles.example.org/style.json"
"""
MARCH = {"period": "Custom dates", "from": "2024-03-01", "to": "2024-03-31"}


def _city_with(root, extra: str):
    make_small_city(root)
    path = root / "city.toml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_city(root)


@pytest.fixture(scope="module")
def labelled_city(tmp_path_factory):
    city = _city_with(tmp_path_factory.mktemp("labelled"), LABELS)
    publish(city)
    return city


def test_one_function_gives_a_districts_label(tmp_path):
    labels = _city_with(tmp_path, LABELS).district_labels
    assert labels.label("D1") == "Council District D1"  # the pattern
    assert labels.label("D4") == "Riverside (D4)"  # the table wins over the pattern
    assert DistrictLabels().label("D1") == "D1"  # no [districts]: the key itself
    assert DistrictLabels.from_info({"district_labels": labels.to_json()}) == labels
    assert DistrictLabels.from_info({}) == DistrictLabels()  # a snapshot from before labels


@pytest.mark.parametrize("extra", [
    '\n[districts]\nlabel = "Council District"\n',  # no {} for the key
    '\n[districts.labels]\nD1 = 1\n',
    '\n[map]\nstyle = "tiles.example.org/style.json"\n',
])
def test_bad_labels_or_style_are_refused(tmp_path, extra):
    with pytest.raises(CityConfigError):
        _city_with(tmp_path, extra)


def test_the_snapshot_info_carries_labels_and_style(labelled_city, tmp_path):
    con = connect_snapshot(str(labelled_city.public_path))
    try:
        info = read_info(con)
    finally:
        con.close()
    assert DistrictLabels.from_info(info).label("D2") == "Council District D2"
    assert info["map_style"] == STYLE
    plain = make_small_city(tmp_path / "plain")
    publish(plain)
    con = connect_snapshot(str(plain.public_path))
    try:
        assert read_info(con)["map_style"] == ""
    finally:
        con.close()


def _districts(values=(5, None, 12, 40)) -> pd.DataFrame:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    return pd.DataFrame({
        "district": ["D1", "D2", "D3", "D4"],
        "district_label": ["Council District D1", "Council District D2", "Council District D3",
                           "Riverside (D4)"],
        "center_lat": [0.5, 0.5, 1.5, 1.5], "center_lon": [0.5, 1.5, 0.5, 1.5],
        "geometry_json": [json.dumps(square)] * 4,
        "median_days_to_close": list(values),
        "count_with_days_to_close": [20, 0, 20, 20],
    })


def _spec(deck) -> dict:
    return json.loads(deck.to_json())


@pytest.mark.parametrize("style", [None, STYLE])
def test_every_map_has_the_citys_base_map_or_none(style):
    districts = _districts()
    cells = pd.DataFrame({"center_lat": [0.5], "center_lon": [0.5], "ref_lat": [0.5],
                          "count_requests": [30], "median_days_to_close": [1.0],
                          "count_with_days_to_close": [30]})
    points = pd.DataFrame({"request_id": ["1"], "lat": [0.5], "lon": [0.5], "status": ["open"],
                           "is_overdue": [False], "request_type": ["Pothole"], "address": ["x"]})
    decks = [
        maps.district_choropleth(districts, maps.DISTRICT_METRICS["median_days_to_close"], 10,
                                 style=style)[0],
        maps.density_hexagons(cells, districts, 0.5, 10, style=style)[0],
        maps.request_points(points, districts, style=style)[0],
    ]
    for deck in decks:
        spec = _spec(deck)
        if style:
            assert spec["mapStyle"] == STYLE
        else:  # pydeck's placeholder: the frontend draws no base map and fetches nothing
            assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec
        assert "cartocdn" not in deck.to_json() and "mapbox.com" not in deck.to_json()


def test_every_map_names_its_districts_by_label():
    districts = _districts()
    deck, _ = maps.district_choropleth(districts, maps.DISTRICT_METRICS["median_days_to_close"],
                                       10)
    spec = _spec(deck)
    names = next(layer for layer in spec["layers"] if layer["@@type"] == "TextLayer")
    assert sorted(item["name"] for item in names["data"]) == sorted(districts["district_label"])
    assert names["characterSet"] == "auto"  # names in any alphabet
    polygons = next(layer for layer in spec["layers"] if layer["id"] == "districts")
    tooltips = {f["properties"]["name"] for f in polygons["data"]["features"]}
    assert tooltips == {"Council District D1", "Council District D2", "Council District D3",
                        "Riverside (D4)"}
    cells = pd.DataFrame({"center_lat": [0.5], "center_lon": [0.5], "ref_lat": [0.5],
                          "count_requests": [30], "median_days_to_close": [1.0],
                          "count_with_days_to_close": [30]})
    density = _spec(maps.density_hexagons(cells, districts, 0.5, 10)[0])
    assert any(layer["@@type"] == "TextLayer" for layer in density["layers"])


def test_the_legend_has_every_grey_the_map_shows():
    # D2: no request closed (no median: no data); D1: a median on 2 requests (k 3: withheld)
    districts = _districts((5, None, 12, 40)).assign(count_with_days_to_close=[2, 0, 20, 20])
    deck, legend = maps.district_choropleth(
        districts, maps.DISTRICT_METRICS["median_days_to_close"], 3
    )
    fills = {tuple(f["properties"]["fill"][:3])
             for f in _spec(deck)["layers"][0]["data"]["features"]}
    assert maps.NO_DATA in fills and maps.WITHHELD in fills
    assert {colour for colour, _ in legend} >= fills
    assert (maps.NO_DATA, "no data") in legend


def test_the_view_fits_the_districts_on_a_phone():
    """The initial zoom shows every district whole in a 358 px wide map (a 390 px phone)."""
    view = maps._view_for([json.loads(g) for g in _districts()["geometry_json"]], 480)
    # 1° of longitude at this zoom, in pixels: the 1° wide districts fit in 358 px
    assert 512 * 2 ** view.zoom / 360 <= 358


# --- the pages (AppTest) -------------------------------------------------------------------------

@pytest.fixture()
def open_labelled(labelled_city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(labelled_city.root))
    return run_public_page


def test_pickers_show_labels_and_keep_keys_in_the_url(open_labelled):
    app = open_labelled("public/map.py", **MARCH, district="D2")
    picker = app.selectbox(key="district")
    assert picker.value == "D2"  # the URL's value: the district's key
    assert picker.options == ["Council District D1", "Council District D2",
                              "Council District D3", "Riverside (D4)"]
    choropleth = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    names = next(layer for layer in choropleth["layers"] if layer["@@type"] == "TextLayer")
    assert "Riverside (D4)" in {item["name"] for item in names["data"]}
    assert choropleth["mapStyle"] == STYLE


def test_the_briefing_heading_and_table_use_the_label(open_labelled):
    app = open_labelled("public/districts.py", **MARCH, district="D2")
    picker = app.selectbox(key="district")
    assert picker.value == "D2" and "Council District D2" in picker.options
    headings = [h.value.replace("\\", "") for h in [*app.header, *app.subheader]]
    assert "Council District D2: service requests briefing" in headings
    assert "How Council District D2 compares" in headings
    assert "Council District D2" in app.table[0].value.columns


def test_the_pdf_brief_uses_the_label(labelled_city, tmp_path):
    from civicstat.core.brief import build_brief
    from civicstat.core.filters import DIMENSIONS, Filters, resolve_period
    from civicstat.exports.brief_pdf import brief_file_name, brief_pdf
    from civicstat.serve.queries import get_query

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found (apt-get install poppler-utils)")
    con = connect_snapshot(str(labelled_city.public_path))
    try:
        info = read_info(con)
        as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
        filters = Filters(resolve_period("30d", as_of, 7), as_of, dict.fromkeys(DIMENSIONS))
        brief = build_brief(filters, "D2", info,
                            lambda name, **params: get_query("public", name).run(con, params))
    finally:
        con.close()
    assert brief.district == "D2" and brief.name == "Council District D2"
    assert brief.title == "Council District D2: service requests briefing"
    source = tmp_path / "brief.pdf"
    source.write_bytes(brief_pdf(brief))
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    text = " ".join(text.split())  # a long title wraps
    assert "Council District D2: service requests briefing" in text
    assert "How Council District D2 compares" in text
    assert "Council-District-D2" in brief_file_name(brief)
