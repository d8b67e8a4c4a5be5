"""The district briefing for council meetings: every figure for one district beside the city and
the previous period, its top request types, its biggest changes, and how it ranks; built once
(`build_brief`) and shown twice, on the /districts page and as a one- or two-page PDF (`brief_pdf`),
so both carry the same figures. The PDF is drawn with fpdf2 (pure Python, no system libraries).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from civicstat.core import figures
from civicstat.core.filters import Filters


@dataclass(frozen=True)
class Kpi:
    """One figure for the district (this period and the previous one) and for the city."""

    label: str
    kind: str  # count, rate, days, per_thousand
    district: object
    previous: object
    city: object
    basis: object = None  # requests the district's figure rests on (None: not suppressed)
    basis_previous: object = None
    basis_city: object = None

    def shown(self, k: int) -> tuple[str, str, str, str]:
        """(district, previous period, change, city) as text."""
        district = figures.format_value(self.district, self.kind, k, self.basis)
        previous = figures.format_value(self.previous, self.kind, k, self.basis_previous)
        city = figures.format_value(self.city, self.kind, k, self.basis_city)
        hidden = figures.TOO_FEW in (district, previous) or "fewer" in district + previous
        change = None if hidden else figures.change(
            self.district, self.previous, "days" if self.kind == "days" else
            "rate" if self.kind == "rate" else "count"
        )
        return district, previous, change or "–", city


@dataclass(frozen=True)
class DistrictBrief:
    city_name: str
    district: str
    period_label: str
    period_days: int
    as_of: dt.datetime
    filters_text: str
    k: int
    kpis: tuple[Kpi, ...]
    top_types: pd.DataFrame  # breakdown.sql rows (by request type) for the district, top 10
    increases: tuple[str, ...]
    decreases: tuple[str, ...]
    standing: tuple[str, ...]
    districts: pd.DataFrame = field(repr=False)  # district_summary.sql rows, for the map

    @property
    def title(self) -> str:
        return f"{self.district}: service requests briefing"


def build_brief(filters: Filters, district: str, info: dict, query=None) -> DistrictBrief:
    """Every figure of the briefing for `district` under `filters` (its district ignored)."""
    if query is None:
        from civicstat.web import data

        query = data.public_query
    k = int(info["k"])
    times = filters.params("start", "end", "prev_start", without=("district",))
    mine = query("overview_kpis", **times, district=district).set_index("period")
    city = query("overview_kpis", **times, district=None).set_index("period")
    summary = query(
        "district_summary", **filters.params("start", "end", without=("district",))
    )
    types = query("breakdown", group_by="request_type", **times, district=district)
    now, before, whole = mine.loc["current"], mine.loc["previous"], city.loc["current"]

    kpis = [
        Kpi("Requests received", "count", now.count_requests, before.count_requests,
            whole.count_requests),
    ]
    row = summary[summary["district"] == district]
    population = row["population"].iloc[0] if len(row) else None
    if not figures.missing(population) and population:
        city_population = summary["population"].sum()
        kpis.append(Kpi(
            "Requests per 1,000 residents", "per_thousand",
            1000 * now.count_requests / population, 1000 * before.count_requests / population,
            1000 * whole.count_requests / city_population if city_population else None,
            now.count_requests, before.count_requests, whole.count_requests,
        ))
    kpis += [
        Kpi("Median days to close", "days", now.median_days_to_close,
            before.median_days_to_close, whole.median_days_to_close,
            now.count_requests, before.count_requests, whole.count_requests),
        Kpi("90th percentile days to close", "days", now.p90_days_to_close,
            before.p90_days_to_close, whole.p90_days_to_close,
            now.count_requests, before.count_requests, whole.count_requests),
        Kpi("On-time rate", "rate", now.on_time_rate, before.on_time_rate, whole.on_time_rate,
            now.count_on_time_eligible, before.count_on_time_eligible,
            whole.count_on_time_eligible),
        Kpi("Open at end of period", "count", now.count_open_at_end, before.count_open_at_end,
            whole.count_open_at_end),
    ]
    increases, decreases = biggest_changes(types, k)
    return DistrictBrief(
        city_name=str(info["city_name"]),
        district=district,
        period_label=filters.period.label,
        period_days=filters.period.days,
        as_of=pd.Timestamp(info["as_of"]).to_pydatetime(),
        filters_text=filters.describe(),
        k=k,
        kpis=tuple(kpis),
        top_types=types.head(10).reset_index(drop=True),
        increases=increases,
        decreases=decreases,
        standing=standing(summary, district, k),
        districts=summary,
    )


def biggest_changes(types: pd.DataFrame, k: int, limit: int = 3) -> tuple[tuple[str, ...], ...]:
    """Sentences for the request types that grew and shrank most against the previous period,
    among those with at least k requests in one of the two periods."""
    enough = types[types[["count_requests", "count_requests_previous"]].max(axis=1) >= k]
    change = enough["count_requests"] - enough["count_requests_previous"]
    ordered = enough.assign(change=change).sort_values(["change", "group_value"])
    up = ordered[ordered["change"] > 0].iloc[::-1].head(limit)
    down = ordered[ordered["change"] < 0].head(limit)
    return tuple(
        tuple(
            figures.change_sentence(str(r.group_value), int(r.count_requests),
                                    int(r.count_requests_previous), k)
            for r in part.itertuples()
        )
        for part in (up, down)
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def standing(summary: pd.DataFrame, district: str, k: int) -> tuple[str, ...]:
    """Where the district ranks among all districts (those with at least k requests), in words."""
    checks = (  # column, what, (best, worst), lower is better, value format
        ("median_days_to_close", "median time to close", ("fastest", "slowest"), True,
         lambda v: figures.days(v, unit=True)),
        ("on_time_rate", "on-time rate", ("highest", "lowest"), False, figures.rate),
        ("requests_per_1000_residents", "number of requests per 1,000 residents",
         ("highest", "lowest"), False, figures.per_thousand),
    )
    sentences = []
    for column, what, (best, worst), lower_is_better, fmt in checks:
        if column not in summary:
            continue
        ranked = summary[summary["count_requests"] >= k].dropna(subset=[column])
        if district not in set(ranked["district"]) or len(ranked) < 2:
            continue
        order = ranked.sort_values(column, ascending=lower_is_better).reset_index(drop=True)
        position = int(order.index[order["district"] == district][0]) + 1
        total = len(order)
        if position <= (total + 1) // 2:
            rank = best if position == 1 else f"{_ordinal(position)}-{best}"
        else:
            from_bottom = total - position + 1
            rank = worst if from_bottom == 1 else f"{_ordinal(from_bottom)}-{worst}"
        value = fmt(order.loc[position - 1, column])
        sentences.append(f"{district} has the {rank} {what} of the {total} districts ({value}).")
    if not sentences:
        sentences.append(f"Too few requests in {district} to rank it against other districts.")
    return tuple(sentences)


# --- the PDF ------------------------------------------------------------------------------------

BLUE, GREY, DARK = (0, 114, 178), (225, 228, 232), (31, 41, 55)
TYPE_COLUMNS = (  # (breakdown column, heading, kind, width in mm)
    ("group_value", "Request type", "text", 72),
    ("count_requests", "Requests", "count", 25),
    ("on_time_rate", "On time", "rate", 25),
    ("median_days_to_close", "Median days", "days", 27),
    ("count_open_at_end", "Open at end", "count", 27),
)


def _latin(text: object) -> str:
    """Text the PDF's built-in fonts can draw (Windows-1252); anything else becomes '?'."""
    return str(text).encode("cp1252", "replace").decode("cp1252")


def brief_pdf(brief: DistrictBrief) -> bytes:
    """The brief as a Letter-size PDF of one or two pages."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter", unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_latin(f"{brief.city_name}: {brief.title}"))
    pdf.set_author(_latin(brief.city_name))
    pdf.set_creator("CivicStat")
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("Helvetica", "B", 20)
    pdf.set_text_color(*DARK)
    pdf.multi_cell(width, 9, _latin(brief.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(
        width, 5,
        _latin(f"{brief.city_name} · {brief.filters_text}, compared with the previous "
               f"{brief.period_days} days and with the whole city. Data as of "
               f"{brief.as_of:%d %B %Y, %H:%M}."),
        new_x="LMARGIN", new_y="NEXT",
    )
    pdf.ln(3)

    top = pdf.get_y()
    map_size = 52
    _district_map(pdf, brief, pdf.l_margin + width - map_size, top, map_size)
    _kpi_table(pdf, brief, width - map_size - 6)
    pdf.set_y(max(pdf.get_y(), top + map_size) + 4)

    _heading(pdf, f"How {brief.district} compares")
    _bullets(pdf, brief.standing, width)
    _heading(pdf, "Top request types")
    _types_table(pdf, brief)
    _heading(pdf, "Biggest changes against the previous period")
    _bullets(pdf, [f"Up: {s}" for s in brief.increases]
             + [f"Down: {s}" for s in brief.decreases]
             or ["No request type changed by much."], width)

    pdf.ln(2)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        width, 3.8,
        _latin(
            "How we measure: days to close = closed time minus created time, for requests created "
            "in the period and closed. On-time rate = share of requests due in the period closed "
            "by their due date (still-open requests count once past due). Open at end of period = "
            "requests not closed by the end of the period. Duplicates are left out of every figure. "
            f"To protect privacy, counts below {brief.k} read 'fewer than {brief.k}' and rates or "
            f"medians resting on fewer than {brief.k} requests read '{figures.TOO_FEW}'. "
            "Source: the city's public 311 data (CivicStat)."
        ),
        new_x="LMARGIN", new_y="NEXT",
    )
    return bytes(pdf.output())


def _heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_text_color(*DARK)
    pdf.cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")


def _bullets(pdf, lines, width: float) -> None:
    pdf.set_font("Helvetica", "", 10)
    pdf.set_text_color(*DARK)
    for line in lines:
        pdf.multi_cell(width, 5, _latin(f"• {line}"), new_x="LMARGIN", new_y="NEXT")


def _row(pdf, cells, widths, *, bold: bool = False, fill=None, height: float = 6.5) -> None:
    """One table row; a text too wide for its cell is set smaller (down to 6 pt)."""
    if fill:
        pdf.set_fill_color(*fill)
    for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
        text, size = _latin(text), 9.5
        pdf.set_font("Helvetica", "B" if bold else "", size)
        while size > 6 and pdf.get_string_width(text) > width - 2:
            size -= 0.5
            pdf.set_font_size(size)
        pdf.cell(width, height, text, border="B", align="L" if index == 0 else "R",
                 fill=bool(fill))
    pdf.ln(height)


def _kpi_table(pdf, brief: DistrictBrief, width: float) -> None:
    widths = [width * 0.33, width * 0.16, width * 0.19, width * 0.16, width * 0.16]
    pdf.set_text_color(*DARK)
    _row(pdf, ["Figure", brief.district, "Previous period", "Change", "City"],
         widths, bold=True, fill=GREY)
    for kpi in brief.kpis:
        _row(pdf, [kpi.label, *kpi.shown(brief.k)], widths)


def _types_table(pdf, brief: DistrictBrief) -> None:
    widths = [w for *_, w in TYPE_COLUMNS]
    pdf.set_text_color(*DARK)
    _row(pdf, [heading for _, heading, _, _ in TYPE_COLUMNS], widths, bold=True, fill=GREY)
    if brief.top_types.empty:
        _row(pdf, ["No requests in this period", "", "", "", ""], widths)
    for row in brief.top_types.itertuples(index=False):
        _row(pdf, [
            figures.format_value(getattr(row, column), kind, brief.k, row.count_requests)
            for column, _, kind, _ in TYPE_COLUMNS
        ], widths)


def _district_map(pdf, brief: DistrictBrief, x0: float, y0: float, size: float) -> None:
    """Every district in grey, this one in blue, fitted into a size × size box."""
    rings = []
    for name, geometry in zip(brief.districts["district"], brief.districts["geometry_json"],
                              strict=True):
        shape = json.loads(geometry)
        polygons = shape["coordinates"] if shape["type"] == "MultiPolygon" else [
            shape["coordinates"]]
        rings += [(name, polygon[0]) for polygon in polygons]
    if not rings:
        return
    lons = [p[0] for _, ring in rings for p in ring]
    lats = [p[1] for _, ring in rings for p in ring]
    stretch = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span = max((max(lons) - min(lons)) * stretch, max(lats) - min(lats)) or 1.0
    scale = size / span

    def point(lon: float, lat: float) -> tuple[float, float]:
        return x0 + (lon - min(lons)) * stretch * scale, y0 + (max(lats) - lat) * scale

    pdf.set_draw_color(255, 255, 255)
    pdf.set_line_width(0.3)
    for name, ring in rings:
        pdf.set_fill_color(*(BLUE if name == brief.district else GREY))
        pdf.polygon([point(lon, lat) for lon, lat in ring], style="DF")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(x0, y0 + (max(lats) - min(lats)) * scale + 1)
    pdf.cell(size, 3, _latin(f"{brief.district} in blue"), align="C")
    pdf.set_xy(pdf.l_margin, y0)


def brief_file_name(brief: DistrictBrief) -> str:
    """A safe file name: letters, digits and dashes only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{brief.city_name} {brief.district} brief").strip("-")
    return f"{stem}-{brief.as_of:%Y-%m-%d}.pdf"
