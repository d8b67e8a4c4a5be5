"""A department's meeting packet (civicstat.core.packet.DepartmentPacket) as a Letter-size PDF,
drawn with the district brief's machinery (civicstat.exports.brief_pdf: fonts, rows, headings), so
names print as written and the two documents look alike. Staff figures: internal, no k rule.
"""

from __future__ import annotations

import datetime as dt
import re

from civicstat.core import commitments as rules
from civicstat.core import figures
from civicstat.core.packet import DepartmentPacket, headline, write
from civicstat.core.scorecard import status_label
from civicstat.exports.brief_pdf import DARK, GREY, _bullets, _footnote, _heading, _row, new_document

TYPE_COLUMNS = (  # (scorecard column, heading, kind, width in mm)
    ("group_key", "Request type", "text", 50),
    ("score_status", "Status", "status", 30),
    ("count_requests", "Requests", "count", 18),
    ("on_time_rate", "On time", "rate", 16),
    ("prev_on_time_rate", "Before", "rate", 16),
    ("median_days_to_close", "Median d.", "days", 17),
    ("prev_median_days_to_close", "Before", "days", 16),
    ("count_overdue", "Overdue", "count", 17),
)
COMMITMENT_COLUMNS = (  # (judgement_rows column, width in mm)
    ("Status", 24), ("Figure", 38), ("Scope", 34), ("Target", 18), ("Due", 20), ("Now", 16),
    ("Trend", 34),
)


def _cell(kind: str, value: object) -> str:
    if kind == "text":
        return str(value)
    if kind == "status":
        return status_label(value)
    return write(kind, value)


def packet_pdf(packet: DepartmentPacket) -> bytes:
    """The packet as a Letter-size PDF."""
    pdf, fonts, width = new_document(packet.city_name, packet.title, side_margin=14)

    fonts.set(pdf, "B", 20)
    pdf.set_text_color(*DARK)
    pdf.multi_cell(width, 9, fonts.text(packet.title), new_x="LMARGIN", new_y="NEXT")
    fonts.set(pdf, "", 10)
    pdf.set_text_color(80, 80, 80)
    last_day = packet.end - dt.timedelta(days=1)
    pdf.multi_cell(
        width, 5,
        fonts.text(f"{packet.city_name} · internal, for the meeting · {packet.period_label} "
                   f"({packet.start:%d %b %Y} – {last_day:%d %b %Y}), compared with the previous "
                   f"{packet.period_days} days. Data as of {packet.as_of:%d %B %Y, %H:%M}."),
        new_x="LMARGIN", new_y="NEXT",
    )

    _heading(pdf, fonts, "Scorecard")
    widths = [70, 40, 40]
    _row(pdf, fonts, ["Figure", "This period", "Previous period"], widths, bold=True, fill=GREY)
    for label, now, before in headline(packet):
        _row(pdf, fonts, [label, now, before], widths)
    fonts.set(pdf, "", 9)
    pdf.set_text_color(*DARK)
    pdf.cell(0, 6, fonts.text(f"Status: {status_label(packet.row['score_status'])} "
                              f"(previous period score {write('score', packet.row['prev_score'])})"),
             new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, fonts, f"Request types off target ({len(packet.off_target)})")
    if packet.off_target.empty:
        _bullets(pdf, fonts, ["No request type is off target this period."], width)
    else:
        _types_table(pdf, fonts, packet.off_target)

    _heading(pdf, fonts, f"Overdue requests by age ({packet.count_overdue:,} open and past due)")
    _row(pdf, fonts, [band for band, _ in packet.overdue_bands], [width / 4] * 4, bold=True, fill=GREY)
    _row(pdf, fonts, [f"{n:,}" for _, n in packet.overdue_bands], [width / 4] * 4)
    if len(packet.oldest_overdue):
        pdf.ln(1)
        widths = [30, 58, 30, 22, 22, 24]
        _row(pdf, fonts, ["Request", "Type", "District", "Age (days)", "Days late", "Was due"],
             widths, bold=True, fill=GREY)
        for r in packet.oldest_overdue.itertuples(index=False):
            _row(pdf, fonts, [r.request_id, r.request_type, r.district or "–",
                              f"{int(r.age_days):,}", figures.duration(float(r.days_late)),
                              f"{r.due_at:%d %b %Y}"], widths)

    _heading(pdf, fonts, f"Commitments ({len(packet.judgements)})")
    if not packet.judgements:
        _bullets(pdf, fonts, ["No commitment recorded for this department."], width)
    else:
        table = rules.judgement_rows(list(packet.judgements))
        scope = [" · ".join(v for v in (r["District"], r["Request type"], r["Channel"]) if v != "all")
                 or "whole department" for _, r in table.iterrows()]
        table = table.assign(Scope=scope)
        _row(pdf, fonts, [c for c, _ in COMMITMENT_COLUMNS], [w for _, w in COMMITMENT_COLUMNS],
             bold=True, fill=GREY)
        for _, r in table.iterrows():
            _row(pdf, fonts, [r[c] for c, _ in COMMITMENT_COLUMNS], [w for _, w in COMMITMENT_COLUMNS])
        owners = [f"{j.commitment.describe()}: {j.commitment.owner or 'no owner'}"
                  + (f" ({j.commitment.note})" if j.commitment.note else "")
                  for j in packet.judgements]
        pdf.ln(1)
        _bullets(pdf, fonts, owners, width)

    _heading(pdf, fonts, "All request types")
    _types_table(pdf, fonts, packet.types)

    _footnote(pdf, fonts, width, (
        "Internal figures for staff (no privacy suppression). Requests created in the period, "
        "duplicates left out. On time: closed by the due date, of those closed or already past "
        "due. Open and overdue: at the end of the period; the overdue requests by age are those "
        "open now. 'Before' is the previous period of the same length. Commitments: on track or "
        "at risk until the data covers the due date, then met or missed (the methodology page "
        "says how). Source: CivicStat."
    ))
    return bytes(pdf.output())


def _types_table(pdf, fonts, types) -> None:
    widths = [w for *_, w in TYPE_COLUMNS]
    pdf.set_text_color(*DARK)
    _row(pdf, fonts, [heading for _, heading, _, _ in TYPE_COLUMNS], widths, bold=True, fill=GREY)
    for _, row in types.iterrows():
        _row(pdf, fonts, [_cell(kind, row[column]) for column, _, kind, _ in TYPE_COLUMNS], widths)


def packet_file_name(packet: DepartmentPacket) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{packet.city_name} {packet.department} packet").strip("-")
    return f"{stem}-{packet.as_of:%Y-%m-%d}.pdf"
