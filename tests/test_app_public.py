"""AppTest of every public page on the small city: they run, filters come from the URL, hostile
parameters are ignored, small counts are suppressed and names are escaped in map tooltips."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from civicstat.publish.build import publish
from civicstat.web.pages import PAGE_SPECS

from smallcity import make_small_city
from test_support import metric_values, run_public_page

PUBLIC_PAGES = [spec.file for spec in PAGE_SPECS if spec.file.startswith("public/")]
MARCH = {"period": "Custom dates", "from": "2024-03-01", "to": "2024-03-31"}
HOSTILE = {
    "period": "<script>alert(1)</script>",
    "department": "<script>alert('x')</script>",
    "district": "../../etc/passwd",
    "request_type": "'; drop table requests; --",
    "from": "not-a-date",
    "map_metric": "description",
    "hex": "1e9",
    "grain": "year",
    "compare": "address",
    "series": "<img src=x onerror=alert(1)>",
    "present": "maybe",
}


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    city = make_small_city(tmp_path_factory.mktemp("small-public"))
    publish(city)
    return city


@pytest.fixture()
def open_page(small_city, monkeypatch):
    monkeypatch.setenv("CIVICSTAT_CITY", str(small_city.root))
    return run_public_page


def decks(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.json) for chart in app.get("deck_gl_json_chart")]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_every_public_page_runs(open_page, page):
    app = open_page(page, **MARCH)
    assert app.title, "every page has a title"
    assert "Data as of" in " ".join(c.value for c in app.caption)


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_hostile_url_parameters_are_ignored(open_page, page):
    app = open_page(page, **HOSTILE)
    text = json.dumps([str(e) for e in app.main]) + json.dumps([str(e) for e in app.sidebar])
    assert "<script>" not in text and "onerror" not in text


SIDEBAR = ("period", "from", "to", "department", "category", "request_type", "district", "channel")
URL_BOUND = {  # every public page -> the URL parameters its own widgets are bound to
    "public/overview.py": ("map_metric",),
    "public/map.py": ("hex", "map_metric"),
    "public/trends.py": ("grain", "compare", "series"),
    "public/districts.py": ("district", "present"),
    "public/open_data.py": (),
    "public/about.py": (),
    "public/lookup.py": ("id",),  # read from the URL, not a widget's binding
}
NOT_AN_OPTION = ("", "no-such-option", "<img src=x onerror=alert(1)>\n' or 1=1 --")


def test_every_url_bound_widget_falls_back_on_a_value_that_is_not_an_option(open_page):
    """Issue 16, item 7: a URL value that is not one of a widget's options (empty, unknown,
    hostile) falls back to the widget's default and the page renders: no exception, no error.
    The sidebar's filters (the same function on every page) are tried on the overview."""
    assert set(URL_BOUND) == set(PUBLIC_PAGES)
    cases = [("public/overview.py", name) for name in SIDEBAR]
    cases += [(page, name) for page, names in URL_BOUND.items() for name in ("period", *names)]
    failures = []
    for page, name in dict.fromkeys(cases):
        for value in NOT_AN_OPTION:
            extra = {"period": "custom"} if name in ("from", "to") else {}
            try:
                app = open_page(page, **extra, **{name: value})
            except AssertionError:
                failures.append((page, name, value))
                continue
            if app.error:
                failures.append((page, name, value, app.error[0].value))
    assert not failures


def test_forged_deselection_of_a_required_control_falls_back(open_page):
    """A client that sends "nothing selected" for a required control gets its default."""
    for page, key in (("public/map.py", "hex"), ("public/trends.py", "grain"),
                      ("public/trends.py", "compare"), ("public/overview.py", "map_metric")):
        app = open_page(page, **MARCH)
        app.segmented_control(key=key).set_value(None).run()
        assert not app.exception and not app.error, (page, key)


def test_overview_lists_top_types_and_departments_in_words(open_page):
    app = open_page("public/overview.py", **MARCH)
    assert metric_values(app)["Requests received"] == "7"
    words = " ".join(m.value for m in app.markdown)
    # Streets: requests 1 (on time), 2 (late) due in March; k = 3 so the rate is not given
    assert ("Streets had fewer than 3 requests closed or past due: too few to give a rate."
            in words.replace("\\", ""))
    assert len(app.get("plotly_chart")) == 3


def test_map_sends_hexagons_not_points_with_escaped_suppressed_tooltips(open_page):
    app = open_page("public/map.py", **MARCH, hex="250 m")
    choropleth, density = decks(app)
    cells = next(layer for layer in density["layers"] if layer["id"] == "density")["data"]
    assert 0 < len(cells) <= 50_000
    assert all(len(cell["polygon"]) == 6 for cell in cells)
    # March, not duplicates, with coordinates (the Encampment has none, the abuse report is
    # not public): requests 1, 2, 3, 4, 6, 7, each alone in its hexagon, so each reads "fewer than 3"
    assert sorted(cell["requests"] for cell in cells) == ["fewer than 3"] * 6
    assert "position" not in json.dumps(density)
    districts = {f["properties"]["name"]: f["properties"]["value"]
                 for f in choropleth["layers"][0]["data"]["features"]}
    assert districts["D1"] == "fewer than 3"  # requests 1 and 2


def test_map_request_type_filter_from_the_url(open_page):
    app = open_page("public/map.py", **MARCH, request_type="Pothole", hex="250 m")
    cells = next(layer for layer in decks(app)[1]["layers"] if layer["id"] == "density")["data"]
    assert len(cells) == 2  # requests 1 and 2; 5 is a duplicate


def test_trends_compares_series_chosen_in_the_url(open_page):
    app = open_page("public/trends.py", **MARCH, compare="Channels", series="phone", grain="Month")
    assert app.multiselect[0].value == ["phone"]
    volume = json.loads(app.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in volume["data"]]
    assert names == ["phone", "phone (a year earlier)"]


def test_district_briefing_suppresses_small_counts_and_offers_the_pdf(open_page):
    app = open_page("public/districts.py", **MARCH, district="D2")
    assert app.selectbox(key="district").value == "D2"
    values = metric_values(app)
    assert values["Requests received"] == "fewer than 3"  # requests 3 and 8
    assert values["Median days to close"] == "too few"
    assert app.table, "the district beside the previous period and the city"
    assert len(app.get("download_button")) == 1
    # the title holds the district's name: Markdown-escaped, it reads the same
    assert "D2: service requests briefing" in [h.value.replace("\\", "") for h in app.header]


def test_presentation_mode_enlarges_type(open_page):
    app = open_page("public/districts.py", **MARCH, present="true")
    assert app.toggle(key="present").value is True
    styles = " ".join(str(e.proto) for e in app.get("html"))
    assert "stMetricValue" in styles
    # the chart's labels, ticks and title too (Plotly's own fonts, not the page's CSS)
    large = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]
    normal = json.loads(open_page("public/districts.py", **MARCH).get(
        "plotly_chart")[0].proto.spec)["layout"]
    for layout, size in ((large, 22), (normal, 14)):
        assert layout["font"]["size"] == size
    assert large["yaxis"]["tickfont"]["size"] == large["xaxis"]["title"]["font"]["size"] == 22
    assert large["title"]["font"]["size"] > normal["title"]["font"]["size"]
    assert large["height"] > normal["height"]


def test_district_briefing_states_the_dates_of_both_periods(open_page):
    app = open_page("public/districts.py", **MARCH, district="D1")
    text = " ".join(m.value.replace("\\", "") for m in app.markdown)
    # 1–30 March 2024 (the as-of day is 30 March) and the 30 days before it
    assert "1 Mar 2024 – 30 Mar 2024 (30 days)" in text
    assert "previous period, **31 Jan 2024 – 29 Feb 2024 (30 days)**" in text
    assert "Same period last year**: 1 Mar 2023 – 30 Mar 2023 (30 days)" in text
    assert "365-day average**: 1 Apr 2023 – 30 Mar 2024 (365 days)" in text
    assert list(app.table[0].value.columns) == [
        "D1", "Previous 30 days", "Change", "Same period last year", "365-day average", "City"]


def test_open_data_offers_csv_parquet_and_a_dictionary(open_page):
    app = open_page("public/open_data.py", **MARCH, department="Streets")
    links = {b.proto.label: b.proto.url for b in app.get("link_button")}
    # the last day is the as-of day, 30 March (the date picker goes no further)
    assert links == {
        "Download CSV": "_civicstat/open-data/requests.csv?from=2024-03-01&to=2024-03-30"
                        "&department=Streets",
        "Download Parquet": "_civicstat/open-data/requests.parquet?from=2024-03-01&to=2024-03-30"
                            "&department=Streets",
    }
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Download the data dictionary (CSV)"]
    # request 5 is a duplicate: the page says why the records outnumber the other pages' counts
    text = " ".join(m.value for m in app.markdown)
    assert "of them are marked as duplicates of another request" in text
    tables = [e for e in app.get("table")]
    assert tables, "the data dictionary is shown"


def test_open_data_reads_the_records_only_when_a_download_is_asked_for(open_page, monkeypatch):
    """The page's render runs the summary only: the records (up to 500,000 rows) are read when
    a file is fetched from the download links (web/open_data_route.py)."""
    from civicstat.serve import queries

    ran = []
    original = queries.Query.run

    def recording_run(self, con, values):
        ran.append(self.name)
        return original(self, con, values)

    monkeypatch.setattr(queries.Query, "run", recording_run)
    app = open_page("public/open_data.py", **MARCH)
    assert "open_data_summary" in ran
    assert "open_data_records" not in ran
    assert len(app.get("link_button")) == 2, "CSV and Parquet are links, made when fetched"


def test_about_states_the_policy_as_applied(open_page):
    app = open_page("public/about.py", **MARCH)
    text = " ".join(m.value for m in app.markdown).replace("\\", "")
    assert "Counts below **3**" in text
    assert "Encampment (published without a location)" in text
    assert "Abuse Report (published only as city-wide counts)" in text
    assert "address, description, resolution" in text


MARKUP_NAMES = {  # district -> the name it and its request types get: must show as text
    "D1": "![x](http://example.invalid/x.png)",
    "D2": '<a href="http://example.invalid">x</a>',
    "D3": "http://example.invalid/path",
    "D4": "**bold**",
}


@pytest.fixture(scope="module")
def markup_city(tmp_path_factory):
    from smallcity import ROWS
    rows = [(*r[:7], r[7] if r[7] in ("Encampment", "Abuse Report") else MARKUP_NAMES[r[8]],
             MARKUP_NAMES[r[8]], *r[9:]) for r in ROWS]
    city = make_small_city(tmp_path_factory.mktemp("markup-public"), rows,
                           districts=tuple(MARKUP_NAMES.values()))
    publish(city)
    return city


def _plotly_texts(app: AppTest) -> list[str]:
    """Category axis values (tick texts), legend names and hover texts of every chart sent."""
    found = []
    for chart in app.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            for field in ("x", "y", "name", "customdata", "text", "hovertext"):
                value = trace.get(field)
                found += [v for v in (value if isinstance(value, list) else [value])
                          if isinstance(v, str)]
    return found


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_names_from_the_data_show_as_text(markup_city, monkeypatch, page):
    """Issue 16, item 5: district and request type names holding Markdown, HTML or a bare URL
    are shown as text: no Markdown element links or embeds example.invalid (no unescaped link
    or image syntax, no bare URL left to autolink), no chart text carries a tag from the data."""
    monkeypatch.setenv("CIVICSTAT_CITY", str(markup_city.root))
    params = {**MARCH, "district": MARKUP_NAMES["D1"]} if page == "public/districts.py" else MARCH
    app = run_public_page(page, **params)
    for kind in ("title", "header", "subheader", "markdown", "caption", "info"):
        for element in getattr(app, kind):
            if "example" in element.value:
                assert not re.search(r"\]\(|https?://|<a |<img", element.value), element.value
    texts = _plotly_texts(app)
    assert all("<a " not in text and "</a>" not in text for text in texts), texts
