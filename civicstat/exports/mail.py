"""A brief or packet as an e-mail message: the headline figures in the body (plain text), the PDF
attached. Only the message is made here; civicstat.cli.send_briefs sends it."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def brief_message(*, sender: str, to: str, subject: str, body: str, pdf: bytes,
                  file_name: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=file_name)
    return message


def brief_body(brief, period_text: str) -> str:
    """The district brief's headline figures as plain text (the same figures as the PDF, each
    through the k rule: core.brief.Kpi.shown)."""
    from civicstat.core import privacy

    lines = [brief.title, "",
             f"{brief.city_name} · {period_text}, compared with the previous {brief.period_days} "
             f"days and with the whole city. Data as of {brief.as_of:%d %B %Y, %H:%M}.", ""]
    for kpi in brief.kpis:
        district, previous, change, city = kpi.shown(brief.k)
        lines.append(f"{kpi.label}: {district} (previous {brief.period_days} days: {previous}; "
                     f"change: {change}; whole city: {city})")
    lines += ["", *brief.standing, "", "The full brief is attached (PDF).",
              f"To protect privacy, {privacy.rule_text(brief.k)}.", "Source: CivicStat, "
              f"{brief.city_name}."]
    return "\n".join(lines) + "\n"


def packet_body(packet) -> str:
    """The department packet's headline figures as plain text (internal figures)."""
    from civicstat.core import commitments as rules
    from civicstat.core.packet import headline

    lines = [packet.title, "",
             f"{packet.city_name} · internal · {packet.period_label}, compared with the previous "
             f"{packet.period_days} days. Data as of {packet.as_of:%d %B %Y, %H:%M}.", ""]
    lines += [f"{label}: {now} (previous period: {before})" for label, now, before in headline(packet)]
    lines.append(f"Request types off target: {len(packet.off_target)}")
    lines.append(f"Overdue now: {packet.count_overdue:,}")
    if packet.judgements:
        lines.append(f"Commitments: {rules.row_summary(list(packet.judgements))}")
    lines += ["", "The full packet is attached (PDF).", f"Source: CivicStat, {packet.city_name}."]
    return "\n".join(lines) + "\n"
