"""The district briefing: its figures equal an independent computation, and its PDF renders."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import subprocess

import pandas as pd
import pytest
from PIL import Image

from civicstat.core import brief as briefing
from civicstat.core.filters import DIMENSIONS, Filters, resolve_period
from civicstat.exports import brief_pdf
from civicstat.serve.queries import get_query
from civicstat.serve.snapshots import connect_snapshot, read_info

from browser_support import ARTIFACTS
from metrics_reference import district_brief, load

DISTRICT = "District 3"


@pytest.fixture(scope="module")
def snapshot(demo_city):
    con = connect_snapshot(demo_city / "build" / "public.duckdb")
    yield con, read_info(con)
    con.close()


def build(snapshot, period: str = "90d", **dimensions) -> briefing.DistrictBrief:
    con, info = snapshot
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    filters = Filters(
        resolve_period(period, as_of, int(info["fiscal_year_start_month"])), as_of,
        {d: dimensions.get(d) for d in DIMENSIONS},
    )
    return briefing.build_brief(
        filters, DISTRICT, info, query=lambda name, **p: get_query("public", name).run(con, p)
    )


def same(actual, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or pd.isna(actual)
    return actual == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("period", ["30d", "90d", "365d"])
def test_district_figures_equal_an_independent_computation(demo_city, snapshot, period):
    brief = build(snapshot, period)
    con, info = snapshot
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    p = resolve_period(period, as_of)
    populations = brief.districts.set_index("district")["population"]
    expected = district_brief(
        load(demo_city / "build" / "public.duckdb"), DISTRICT, p.start, p.end, p.prev_start,
        as_of, int(populations[DISTRICT]), int(populations.sum()),
    )
    kpis = {kpi.label: kpi for kpi in brief.kpis}
    for label, key in [
        ("Requests received", "count_requests"), ("Median days to close", "median_days_to_close"),
        ("90th percentile days to close", "p90_days_to_close"), ("On-time rate", "on_time_rate"),
        ("Open at end of period", "count_open_at_end"),
    ]:
        assert same(kpis[label].district, expected["district"][key]), label
        assert same(kpis[label].previous, expected["previous"][key]), label
        assert same(kpis[label].city, expected["city"][key]), label
    assert same(kpis["Requests per 1,000 residents"].district, expected["per_1000"])
    assert same(kpis["Requests per 1,000 residents"].city, expected["per_1000_city"])

    assert len(brief.top_types) == min(10, len(expected["types"]))
    counts = sorted((v["count_requests"] for v in expected["types"].values()), reverse=True)
    assert brief.top_types["count_requests"].tolist() == counts[: len(brief.top_types)]
    for row in brief.top_types.itertuples():
        reference = expected["types"][row.group_value]
        assert row.count_requests == reference["count_requests"]
        assert row.count_requests_previous == reference["count_requests_previous"]
        assert same(row.on_time_rate, reference["on_time_rate"]), row.group_value
        assert same(row.median_days_to_close, reference["median_days_to_close"]), row.group_value
        assert row.count_open_at_end == reference["count_open_at_end"], row.group_value


@pytest.mark.parametrize("period", ["30d", "90d"])
def test_last_year_and_the_365_day_average_equal_an_independent_computation(
    demo_city, snapshot, period
):
    """The same dates a year earlier, and the 365 days to the period's end (counts per period of
    the same length; medians and rates over the 365 days), recomputed with pandas."""
    brief = build(snapshot, period)
    con, info = snapshot
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    p = resolve_period(period, as_of)
    length = p.end - p.start
    year_ago = (pd.Timestamp(p.start) - pd.DateOffset(years=1)).to_pydatetime()
    year_from = p.end - pd.Timedelta(days=365)
    populations = brief.districts.set_index("district")["population"]
    frame = load(demo_city / "build" / "public.duckdb")
    reference = {
        when: district_brief(frame, DISTRICT, start, end, start - length, as_of,
                             int(populations[DISTRICT]), int(populations.sum()))["district"]
        for when, (start, end) in {"last_year": (year_ago, year_ago + length),
                                   "year": (year_from, p.end)}.items()
    }
    kpis = {kpi.label: kpi for kpi in brief.kpis}
    for label, key in [
        ("Requests received", "count_requests"), ("Median days to close", "median_days_to_close"),
        ("90th percentile days to close", "p90_days_to_close"), ("On-time rate", "on_time_rate"),
        ("Open at end of period", "count_open_at_end"),
    ]:
        assert same(kpis[label].last_year, reference["last_year"][key]), label
        if key not in ("count_requests", "count_open_at_end"):
            assert same(kpis[label].average, reference["year"][key]), label
    year_count = reference["year"]["count_requests"]
    assert kpis["Requests received"].average == round(year_count * length.days / 365)
    assert year_count > 0 and reference["last_year"]["count_requests"] > 0  # not vacuous
    assert kpis["Open at end of period"].beside(brief.k)[1] == "–"
    periods = dict(brief.periods())
    last = p.end - pd.Timedelta(days=1)
    assert periods["This period"] == (f"{p.start.day} {p.start:%b %Y} – {last.day} {last:%b %Y} "
                                      f"({length.days} days)")
    assert periods["Same period last year"].startswith(f"{year_ago.day} {year_ago:%b %Y} – ")


def test_biggest_changes_are_the_largest_differences(snapshot):
    brief = build(snapshot, "30d")
    assert brief.increases or brief.decreases
    assert all(" up " in s or "none in the previous" in s for s in brief.increases)
    assert all(" down " in s for s in brief.decreases)
    assert len(brief.standing) == 3


def test_small_counts_are_suppressed_in_the_brief(snapshot):
    brief = build(snapshot, "90d", request_type="Street Cave-In")  # a rare type
    shown = [text for kpi in brief.kpis for text in kpi.shown(brief.k)]
    assert f"fewer than {brief.k}" in shown
    for text in shown:
        number = text.replace(",", "")
        assert not (number.isdigit() and 0 < int(number) < brief.k), shown
    assert briefing.figures.TOO_FEW in shown  # its median rests on fewer than k requests


def test_the_pdf_brief_has_one_or_two_pages_and_renders(snapshot, tmp_path):
    brief = build(snapshot, "90d")
    pdf = brief_pdf.brief_pdf(brief)
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 2
    assert brief_pdf.brief_file_name(brief).endswith(".pdf")
    if shutil.which("pdftoppm") is None:
        message = "pdftoppm not found (apt-get install poppler-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    source = tmp_path / "brief.pdf"
    source.write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source),
         str(ARTIFACTS / "district-brief-page1")],
        check=True, timeout=60,
    )
    image = Image.open(ARTIFACTS / "district-brief-page1.png").convert("RGB")
    assert image.width > 500 and image.height > 600
    colours = dict((c, n) for n, c in image.getcolors(maxcolors=1_000_000))
    assert colours.get(brief_pdf.BLUE, 0) > 200, "the district map is not drawn in blue"
    assert len(colours) > 20, "the page looks blank"


def unicode_brief(snapshot) -> briefing.DistrictBrief:
    """The District 3 brief, its district called "Łódź" and its top request type "東京 Quận 1"."""
    brief = build(snapshot, "90d")
    top_types = brief.top_types.copy()
    top_types.loc[top_types.index[0], "group_value"] = "東京 Quận 1"
    districts = brief.districts.replace({"district": {DISTRICT: "Łódź"}})
    return dataclasses.replace(brief, district="Łódź", top_types=top_types, districts=districts,
                               increases=("東京 Quận 1: up from 東京", *brief.increases))


def brief_periods(snapshot) -> tuple[tuple[str, str], ...]:
    return build(snapshot, "90d").periods()


@pytest.mark.skipif(brief_pdf.unicode_fonts() is None or brief_pdf.unicode_fonts()[2] is None,
                    reason="needs fonts-dejavu-core and fonts-droid-fallback")
def test_the_pdf_brief_prints_names_as_written(snapshot, tmp_path):
    pdf = brief_pdf.brief_pdf(unicode_brief(snapshot))
    assert len(pdf) < 150_000, "fonts are embedded as subsets"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found (apt-get install poppler-utils)")
    source = tmp_path / "lodz.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    assert "Łódź: service requests briefing" in text
    for what, dates in brief_periods(snapshot):  # the dates of every period compared
        assert f"{what}: {dates}" in text
    assert "Last year" in text and "365-day avg." in text
    assert "How Łódź compares" in text and "Łódź in blue" in text
    assert "東京 Quận 1" in text and "• Up: 東京 Quận 1: up from 東京" in text
    assert "?" not in text  # nothing printed as "?"
    # the text after a CJK run is itself (fpdf2 can leave the fallback font selected)
    brief = unicode_brief(snapshot)
    for name in brief.top_types["group_value"]:
        assert name in text
    for line in brief.increases + brief.decreases:
        assert line.split(":")[0] in text
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(ARTIFACTS / "district-brief-lodz")], check=True, timeout=60)


def test_the_pdf_brief_without_unicode_fonts_falls_back_to_helvetica(snapshot, monkeypatch):
    monkeypatch.setattr(brief_pdf, "unicode_fonts", lambda: None)
    pdf = brief_pdf.brief_pdf(unicode_brief(snapshot))
    assert pdf.startswith(b"%PDF") and b"DejaVu" not in pdf
