"""The district brief as a Letter-size PDF of one or two pages, drawn with fpdf2 (pure Python, no
system libraries) from a civicstat.core.brief.DistrictBrief, so it carries the page's figures.

Names print as written ("Łódź", "Quận 1", "東京"): DejaVu Sans is embedded (subset to the glyphs
used), with Droid Sans Fallback for CJK (Debian: fonts-dejavu-core, fonts-droid-fallback). Without
them the brief falls back to the core Helvetica (Windows-1252, other letters print as "?") and
logs a warning.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from civicstat.core import figures, methodology, privacy
from civicstat.core.brief import DistrictBrief

BLUE, GREY, DARK = (0, 114, 178), (225, 228, 232), (31, 41, 55)
TYPE_COLUMNS = (  # (breakdown column, heading, kind, width in mm)
    ("group_value", "Request type", "text", 72),
    ("count_requests", "Requests", "count", 25),
    ("on_time_rate", "On time", "rate", 25),
    ("median_days_to_close", "Median days", "days", 27),
    ("count_open_at_end", "Open at end", "count", 27),
)


FONT_DIRS = (  # Debian / Ubuntu, then Fedora / Arch
    Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"), Path("/usr/share/fonts/TTF"),
)
FALLBACK_FONTS = (  # CJK
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/droid/DroidSansFallbackFull.ttf"),
)
log = logging.getLogger(__name__)


@functools.cache
def unicode_fonts() -> tuple[Path, Path, Path | None] | None:
    """(regular, bold, CJK fallback or None) font files, or None (with a warning) when there are none."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            fallback = next((path for path in FALLBACK_FONTS if path.is_file()), None)
            if fallback is None:
                log.warning("No CJK font (fonts-droid-fallback): such names print as blanks in "
                            "the PDF brief")
            return regular, bold, fallback
    log.warning("No Unicode font (fonts-dejavu-core): the PDF brief uses Helvetica, and letters "
                "outside Windows-1252 print as '?'")
    return None


@dataclass(frozen=True)
class _Fonts:
    family: str
    unicode: bool

    def set(self, pdf, style: str, size: float) -> None:
        """pdf.set_font, made to take effect: after a run drawn in the fallback (CJK) font, fpdf2
        (2.8, its issue #1488) keeps the fallback selected when the same font is set again."""
        if self.unicode:
            pdf.set_font(self.family, "" if style else "B", size)
        pdf.set_font(self.family, style, size)

    def text(self, value: object) -> str:
        """Text the font can draw; with the core font, anything outside Windows-1252 is '?'."""
        text = str(value)
        return text if self.unicode else text.encode("cp1252", "replace").decode("cp1252")


def _set_up_fonts(pdf) -> _Fonts:
    found = unicode_fonts()
    if found is None:
        pdf.core_fonts_encoding = "windows-1252"
        return _Fonts("Helvetica", unicode=False)
    regular, bold, fallback = found
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    if fallback is not None:
        pdf.add_font("DroidFallback", "", fallback)
        pdf.set_fallback_fonts(["DroidFallback"], exact_match=False)  # bold falls back too
    return _Fonts("DejaVu", unicode=True)


def new_document(city_name: str, title: str, side_margin: float):
    """A Letter-size PDF with CivicStat's fonts, title and margins, on its first page: (the
    document, its fonts, the page's usable width in mm). The brief and the packet start here."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter", unit="mm")
    fonts = _set_up_fonts(pdf)
    pdf.set_title(fonts.text(f"{city_name}: {title}"))
    pdf.set_author(fonts.text(city_name))
    pdf.set_creator("CivicStat")
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_margins(side_margin, 14, side_margin)
    pdf.add_page()
    return pdf, fonts, pdf.w - pdf.l_margin - pdf.r_margin


def _footnote(pdf, fonts: _Fonts, width: float, text: str) -> None:
    """The small grey paragraph that ends a brief or a packet: how it was measured, its source."""
    pdf.ln(2)
    fonts.set(pdf, "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(width, 3.8, fonts.text(text), new_x="LMARGIN", new_y="NEXT")


def brief_pdf(brief: DistrictBrief) -> bytes:
    """The brief as a Letter-size PDF of one or two pages."""
    pdf, fonts, width = new_document(brief.city_name, brief.title, side_margin=16)

    top = pdf.get_y()
    map_size = 40  # the district's map beside the title and the periods' dates
    _district_map(pdf, fonts, brief, pdf.l_margin + width - map_size, top, map_size)
    beside = width - map_size - 6
    fonts.set(pdf, "B", 18)
    pdf.set_text_color(*DARK)
    pdf.multi_cell(beside, 8, fonts.text(brief.title), align="L", new_x="LMARGIN", new_y="NEXT")
    fonts.set(pdf, "", 10)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(
        beside, 5,
        fonts.text(f"{brief.city_name} · {brief.filters_text}, beside the whole city. Data as of "
                   f"{brief.as_of:%d %B %Y, %H:%M}."),
        align="L", new_x="LMARGIN", new_y="NEXT",
    )
    pdf.ln(1)
    _bullets(pdf, fonts, [f"{what}: {dates}" for what, dates in brief.periods()], beside, size=9)
    pdf.set_y(max(pdf.get_y(), top + map_size + 4) + 1)
    _kpi_table(pdf, fonts, brief, width)
    pdf.ln(2)

    _heading(pdf, fonts, f"How {brief.name} compares")
    _bullets(pdf, fonts, brief.standing, width)
    _heading(pdf, fonts, "Top request types")
    _types_table(pdf, fonts, brief)
    _heading(pdf, fonts, "Biggest changes against the previous period")
    _bullets(pdf, fonts, [f"Up: {s}" for s in brief.increases]
             + [f"Down: {s}" for s in brief.decreases]
             or ["No request type changed by much."], width)

    _footnote(pdf, fonts, width, (
        "How we measure: days to close = closed time minus created time, for requests created "
        f"in the period and closed. On-time rate = of the {methodology.ON_TIME_SCOPE}, the share "
        "closed by the due date. Open at end of period = "
        f"requests not closed by the end of the period. {brief.average_note} "
        "Duplicates are left out of every figure. "
        f"To protect privacy, {privacy.rule_text(brief.k)}. "
        "Source: the city's public 311 data (CivicStat)."
    ))
    return bytes(pdf.output())


def _heading(pdf, fonts: _Fonts, text: str) -> None:
    pdf.ln(2)
    fonts.set(pdf, "B", 13)
    pdf.set_text_color(*DARK)
    pdf.cell(0, 7, fonts.text(text), new_x="LMARGIN", new_y="NEXT")


def _bullets(pdf, fonts: _Fonts, lines, width: float, size: float = 10) -> None:
    pdf.set_text_color(*DARK)
    for line in lines:
        fonts.set(pdf, "", size)
        pdf.multi_cell(width, size / 2, fonts.text(f"• {line}"), align="L", new_x="LMARGIN",
                       new_y="NEXT")


def _row(pdf, fonts: _Fonts, cells, widths, *, bold: bool = False, fill=None, height: float = 6.5) -> None:
    """One table row; a text too wide for its cell is set smaller (down to 6 pt)."""
    if fill:
        pdf.set_fill_color(*fill)
    for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
        text, size = fonts.text(text), 9.5
        fonts.set(pdf, "B" if bold else "", size)
        while size > 6 and pdf.get_string_width(text) > width - 2:
            size -= 0.5
            pdf.set_font_size(size)
        pdf.cell(width, height, text, border="B", align="L" if index == 0 else "R",
                 fill=bool(fill))
    pdf.ln(height)


def _kpi_table(pdf, fonts: _Fonts, brief: DistrictBrief, width: float) -> None:
    widths = [width * share for share in (0.27, 0.13, 0.12, 0.11, 0.12, 0.14, 0.11)]
    pdf.set_text_color(*DARK)
    _row(pdf, fonts, ["Figure", brief.name, "Previous", "Change", "Last year",
                      "365-day avg.", "City"], widths, bold=True, fill=GREY)
    for kpi in brief.kpis:
        district, previous, change, city = kpi.shown(brief.k)
        _row(pdf, fonts, [kpi.label, district, previous, change, *kpi.beside(brief.k), city],
             widths, height=6)


def _types_table(pdf, fonts: _Fonts, brief: DistrictBrief) -> None:
    widths = [w for *_, w in TYPE_COLUMNS]
    pdf.set_text_color(*DARK)
    _row(pdf, fonts, [heading for _, heading, _, _ in TYPE_COLUMNS], widths, bold=True, fill=GREY)
    if brief.top_types.empty:
        _row(pdf, fonts, ["No requests in this period", "", "", "", ""], widths)
    for row in brief.top_types.itertuples(index=False):
        _row(pdf, fonts, [
            figures.table_cell(row, column, kind, brief.k)
            for column, _, kind, _ in TYPE_COLUMNS
        ], widths, height=5.5)


def _district_map(pdf, fonts: _Fonts, brief: DistrictBrief, x0: float, y0: float, size: float) -> None:
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
    fonts.set(pdf, "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(x0, y0 + (max(lats) - min(lats)) * scale + 1)
    pdf.cell(size, 3, fonts.text(f"{brief.name} in blue"), align="C")
    pdf.set_xy(pdf.l_margin, y0)


def brief_file_name(brief: DistrictBrief) -> str:
    """A safe file name: letters, digits and dashes only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{brief.city_name} {brief.name} brief").strip("-")
    return f"{stem}-{brief.as_of:%Y-%m-%d}.pdf"
