"""`civicstat brief`, `civicstat packet` and `civicstat send-briefs`: the district brief and the
department meeting packet as PDF files for scripts, and both sent by e-mail to the subscriptions of
city.toml through the city's SMTP server (secrets.toml, [smtp]).

A send that fails is tried again, after 1, 2, 4... seconds (--attempts, --backoff), when the failure
may pass (no connection, a 4xx answer, a dropped connection); a refusal (5xx) is not retried.
Whatever fails is reported: one line each on stderr, the JSON summary on stdout (--json), and the
exit code is 1. Nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from civicstat.accounts.secrets_file import DEFAULT_SECRETS_FILE, read_secrets
from civicstat.commitments.store import CommitmentStore
from civicstat.core.brief import DistrictBrief, build_brief
from civicstat.core.city import CityConfigError, load_city
from civicstat.core.errors import one_line
from civicstat.core.filters import PERIOD_LABELS, Filters, Period, resolve_period
from civicstat.core.packet import DepartmentPacket, build_packet
from civicstat.core.subscriptions import Subscription, load_subscriptions
from civicstat.exports import mail
from civicstat.exports.brief_pdf import brief_file_name, brief_pdf
from civicstat.exports.packet_pdf import packet_file_name, packet_pdf
from civicstat.ingest.sources.base import InputError
from civicstat.serve.runner import snapshot_queries


def _as_of(info: dict):
    return pd.Timestamp(info["as_of"]).to_pydatetime()


def district_brief(city_dir: Path, district: str, period: str | Period = "30d") -> DistrictBrief:
    """The district brief from the public snapshot (what the public page shows)."""
    city = load_city(city_dir)
    with snapshot_queries(city.public_path, "public") as (info, query):
        names = set(query("filter_options").query("dimension == 'district'")["value"])
        if district not in names:
            raise InputError(f"no district {district!r} in the published data "
                             f"(districts: {', '.join(sorted(names)) or 'none'})")
        as_of = _as_of(info)
        chosen = period if isinstance(period, Period) else resolve_period(
            period, as_of, int(info["fiscal_year_start_month"]))
        return build_brief(Filters(chosen, as_of, {}), district, info, query)


def department_packet(city_dir: Path, department: str, period: str | Period = "30d") -> DepartmentPacket:
    """The department's packet from the internal snapshot and the commitments database."""
    city = load_city(city_dir)
    with snapshot_queries(city.internal_path, "internal") as (info, query):
        names = set(query("filter_options").query("dimension == 'department'")["value"])
        if department not in names:
            raise InputError(f"no department {department!r} in the published data")
        as_of = _as_of(info)
        chosen = period if isinstance(period, Period) else resolve_period(
            period, as_of, int(info["fiscal_year_start_month"]))
        promised = CommitmentStore(city.root).list(department=department)
        try:
            return build_packet(Filters(chosen, as_of, {}), department, info, query, city.goals,
                                promised)
        except ValueError as error:
            raise InputError(str(error)) from error


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def cmd_brief(args: argparse.Namespace) -> int:
    brief = district_brief(Path(args.dir), args.district, args.period)
    _write(args.out, brief_pdf(brief))
    print(f"District brief for {brief.district} ({brief.period_label}, as of "
          f"{brief.as_of:%Y-%m-%d %H:%M}) written to {args.out}")
    return 0


def cmd_packet(args: argparse.Namespace) -> int:
    packet = department_packet(Path(args.dir), args.department, args.period)
    _write(args.out, packet_pdf(packet))
    print(f"Meeting packet for {packet.department} ({packet.period_label}, as of "
          f"{packet.as_of:%Y-%m-%d %H:%M}, {len(packet.judgements)} commitments) written to {args.out}")
    return 0


# Sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "starttls", "ssl" or "none"
    user: str | None
    password: str | None
    sender: str


def smtp_settings(secrets_path: Path) -> SmtpSettings:
    """[smtp] of the secrets file: host, port, security (starttls, ssl or none; default
    starttls), user and password (both or neither), from."""
    section = read_secrets(secrets_path).get("smtp")
    if not isinstance(section, dict) or not section.get("host") or not section.get("from"):
        raise CityConfigError(f"{secrets_path}: an [smtp] section with host and from is needed "
                              "to send briefs")
    security = str(section.get("security", "starttls")).lower()
    if security not in ("starttls", "ssl", "none"):
        raise CityConfigError(f"{secrets_path}: smtp.security must be starttls, ssl or none")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    return SmtpSettings(str(section["host"]), int(section.get("port", default_port)), security,
                        section.get("user"), section.get("password"), str(section["from"]))


class PermanentFailure(Exception):
    """The server refused the message (a 5xx answer): trying again would not help."""


def _send_once(settings: SmtpSettings, message, timeout: float) -> None:
    context = ssl.create_default_context()
    if settings.security == "ssl":
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.user:
            server.login(settings.user, settings.password or "")
        try:
            server.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(str(refused)) from refused
            raise
        except smtplib.SMTPResponseException as answer:
            if 500 <= answer.smtp_code < 600:
                raise PermanentFailure(f"{answer.smtp_code} {answer.smtp_error!r}") from answer
            raise


def send_with_retries(settings: SmtpSettings, message, *, attempts: int, backoff: float,
                      timeout: float = 30.0, sleep=time.sleep) -> tuple[int, str | None]:
    """(attempts made, None when sent or the last error)."""
    error = None
    for attempt in range(1, attempts + 1):
        try:
            _send_once(settings, message, timeout)
            return attempt, None
        except PermanentFailure as refused:
            return attempt, f"refused: {refused}"
        except (OSError, smtplib.SMTPException) as failure:
            error = f"{type(failure).__name__}: {failure}"
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    return attempts, error


def _document(city_dir: Path, sub: Subscription) -> tuple[str, str, bytes, str]:
    """(subject, body, pdf, file name) for one subscription."""
    city = load_city(city_dir)
    with snapshot_queries(city.public_path, "public") as (info, _):
        as_of = _as_of(info)
    period = sub.period(as_of)
    if sub.kind == "district":
        brief = district_brief(city_dir, sub.name, period)
        period_text = f"{period.label} ({period.start:%d %b} – {period.end - pd.Timedelta(days=1):%d %b %Y})"
        return (f"{brief.city_name}: {sub.frequency} brief for {sub.name}",
                mail.brief_body(brief, period_text), brief_pdf(brief), brief_file_name(brief))
    packet = department_packet(city_dir, sub.name, period)
    return (f"{packet.city_name}: {sub.frequency} packet for {sub.name}", mail.packet_body(packet),
            packet_pdf(packet), packet_file_name(packet))


def cmd_send_briefs(args: argparse.Namespace) -> int:
    city_dir = Path(args.dir)
    subscriptions = [s for s in load_subscriptions(city_dir)
                     if args.frequency in (None, s.frequency)]
    settings = smtp_settings(args.secrets)
    summary = {"sent": [], "failed": []}
    for sub in subscriptions:
        try:
            subject, body, pdf, file_name = _document(city_dir, sub)
        except Exception as error:  # noqa: BLE001 (reported, and the other subscriptions still go)
            for address in sub.emails:
                summary["failed"].append({"subscription": sub.label, "to": address, "attempts": 0,
                                          "error": one_line(f"{type(error).__name__}: {error}")})
            continue
        for address in sub.emails:
            message = mail.brief_message(sender=settings.sender, to=address, subject=subject,
                                         body=body, pdf=pdf, file_name=file_name)
            attempts, error = send_with_retries(settings, message, attempts=args.attempts,
                                                backoff=args.backoff, timeout=args.timeout)
            entry = {"subscription": sub.label, "to": address, "attempts": attempts}
            if error:
                summary["failed"].append({**entry, "error": one_line(error)})
            else:
                summary["sent"].append({**entry, "file": file_name})
    summary["ok"] = not summary["failed"]
    for failure in summary["failed"]:
        print(f"civicstat send-briefs: not sent to {failure['to']} ({failure['subscription']}) "
              f"after {failure['attempts']} attempts: {failure['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"Sent {len(summary['sent'])} e-mails, {len(summary['failed'])} failed "
              f"({len(subscriptions)} subscriptions).")
    return 0 if summary["ok"] else 1


def register(commands) -> None:
    periods = [key for key in PERIOD_LABELS if key != "custom"]
    brief = commands.add_parser("brief", help="write a district's brief as a PDF")
    brief.add_argument("dir", help="city folder")
    brief.add_argument("--district", required=True, help="the district, as the data names it")
    brief.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    brief.add_argument("--period", choices=periods, default="30d", help="default: 30d")
    brief.set_defaults(handler=cmd_brief)

    packet = commands.add_parser("packet", help="write a department's meeting packet as a PDF")
    packet.add_argument("dir", help="city folder")
    packet.add_argument("--department", required=True, help="the department, as the data names it")
    packet.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    packet.add_argument("--period", choices=periods, default="30d", help="default: 30d")
    packet.set_defaults(handler=cmd_packet)

    send = commands.add_parser(
        "send-briefs", help="e-mail each subscription of city.toml its brief or packet")
    send.add_argument("dir", help="city folder")
    send.add_argument("--frequency", choices=["weekly", "monthly"],
                      help="send only these subscriptions (default: all)")
    send.add_argument("--secrets", type=Path, default=DEFAULT_SECRETS_FILE,
                      help=f"the secrets file with [smtp] (default: {DEFAULT_SECRETS_FILE})")
    send.add_argument("--attempts", type=int, default=4, help="tries per e-mail (default 4)")
    send.add_argument("--backoff", type=float, default=2.0,
                      help="seconds before the second try, doubled for each later one (default 2)")
    send.add_argument("--timeout", type=float, default=30.0, help="seconds per connection (default 30)")
    send.add_argument("--json", action="store_true", help="print the summary as JSON")
    send.set_defaults(handler=cmd_send_briefs)
