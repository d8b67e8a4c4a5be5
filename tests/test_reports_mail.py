"""The district brief and the department packet as PDF files from the command line, and briefs
e-mailed to the subscriptions of city.toml (issue 15, items 2 and 3), against a local SMTP server
(aiosmtpd): each message received with its PDF and the right headline figures (compared with an
independent pandas computation), a failing server retried and reported, never lost silently."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from civicstat.cli.main import main
from civicstat.commitments.store import CommitmentStore
from civicstat.core import figures
from civicstat.core.city import load_city
from civicstat.core.commitments import Commitment
from civicstat.core.subscriptions import Subscription
from civicstat.demo.generator import build_demo
from civicstat.publish.build import publish

import metrics_reference as ref

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DISTRICT, DEPARTMENT = "District 4", "Streets & Sanitation"
SUBSCRIPTIONS = f"""
[[subscriptions]]
district = "{DISTRICT}"
emails = ["council.d4@riverton.example", "aide.d4@riverton.example"]
frequency = "monthly"

[[subscriptions]]
department = "{DEPARTMENT}"
emails = ["streets.director@riverton.example"]
frequency = "weekly"
"""


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mailcity")
    build_demo(root, rows=40_000)
    info = publish(load_city(root))
    with (root / "city.toml").open("a", encoding="utf-8") as toml:
        toml.write(SUBSCRIPTIONS)
    as_of = info["as_of"]
    store = CommitmentStore(root)
    store.add(Commitment(department=DEPARTMENT, metric="on_time_rate", target=0.9,
                         due_date=(as_of + dt.timedelta(days=30)).date(), owner="Deputy",
                         note="pothole blitz"), actor="test")
    store.add(Commitment(department=DEPARTMENT, metric="count_overdue", target=1_000_000,
                         due_date=(as_of - dt.timedelta(days=3)).date(), owner="Director"),
              actor="test")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler: answers DATA with `answers` in turn (then 250), keeps what it accepts."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[email.message.EmailMessage] = []
        self.tries = 0

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.answers:
            return self.answers.pop(0)
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture()
def smtp():
    started = []

    def start(handler: Inbox) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def secrets_for(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                    f'from = "civicstat@riverton.example"\n', encoding="utf-8")
    return path


def send(city: Path, secrets: Path, capsys, *extra: str) -> tuple[int, dict, str]:
    code = main(["send-briefs", str(city), "--secrets", str(secrets), "--json", "--backoff", "0",
                 *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def body_figure(body: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}: (.+?) \(", body, flags=re.MULTILINE)
    assert match, (label, body)
    return match.group(1)


def test_send_briefs_delivers_pdf_and_figures(city, smtp, tmp_path, capsys):
    inbox = Inbox()
    code, summary, err = send(city, secrets_for(tmp_path, smtp(inbox)), capsys)
    assert code == 0 and summary["ok"] and not summary["failed"] and not err
    assert sorted(m["To"] for m in inbox.received) == sorted(
        ["council.d4@riverton.example", "aide.d4@riverton.example",
         "streets.director@riverton.example"])
    config = load_city(city)
    public = ref.load(config.public_path)
    internal = ref.load(config.internal_path)
    as_of = public["created_at"].max()  # the demo's as-of is its latest created time
    for message in inbox.received:
        attachments = list(message.iter_attachments())
        assert [a.get_content_type() for a in attachments] == ["application/pdf"]
        assert attachments[0].get_content().startswith(b"%PDF")
        body = message.get_body(preferencelist=("plain",)).get_content()
        if "D4" in message["To"] or "d4" in message["To"]:
            period = Subscription("district", DISTRICT, ("x@y.z",), "monthly").period(as_of)
            expected = ref.figures(ref.select(public, district=DISTRICT), period.start, period.end,
                                   as_of)
            assert expected["count_requests"] >= config.k  # shown, not "fewer than k"
            assert body_figure(body, "Requests received") == f"{expected['count_requests']:,}"
            assert body_figure(body, "On-time rate") == f"{expected['on_time_rate']:.0%}"
            assert body_figure(body, "Median days to close") == figures.duration(
                expected["median_days_to_close"])
            assert f"brief for {DISTRICT}" in message["Subject"]
        else:
            period = Subscription("department", DEPARTMENT, ("x@y.z",), "weekly").period(as_of)
            expected = ref.figures(ref.select(internal, department=DEPARTMENT), period.start,
                                   period.end, as_of)
            assert body_figure(body, "Requests received") == f"{expected['count_requests']:,}"
            assert body_figure(body, "On-time rate") == f"{expected['on_time_rate']:.0%}"
            assert "Commitments: 2:" in body
            assert f"packet for {DEPARTMENT}" in message["Subject"]


def test_a_failing_server_is_retried(city, smtp, tmp_path, capsys):
    """Two 451 answers, then accepted: sent at the third attempt."""
    inbox = Inbox(["451 4.3.0 try again later"] * 2)
    code, summary, _ = send(city, secrets_for(tmp_path, smtp(inbox)), capsys,
                            "--frequency", "weekly", "--attempts", "4")
    assert code == 0 and len(inbox.received) == 1
    assert summary["sent"][0]["attempts"] == 3


@pytest.mark.parametrize("answer, attempts_made", [
    ("451 4.3.0 still busy", 3),  # may pass: tried --attempts times
    ("554 5.7.1 refused", 1),  # refused: not tried again
])
def test_a_failed_send_is_reported(city, smtp, tmp_path, capsys, answer, attempts_made):
    inbox = Inbox([answer] * 10)
    code, summary, err = send(city, secrets_for(tmp_path, smtp(inbox)), capsys,
                              "--frequency", "weekly", "--attempts", "3")
    assert code == 1 and not summary["ok"] and not summary["sent"]
    [failed] = summary["failed"]
    assert failed["to"] == "streets.director@riverton.example"
    assert failed["attempts"] == attempts_made == inbox.tries
    assert answer.split()[0] in failed["error"]
    assert "not sent to streets.director@riverton.example" in err


def test_no_server_at_all_is_reported(city, tmp_path, capsys):
    code, summary, err = send(city, secrets_for(tmp_path, free_port()), capsys, "--attempts", "2")
    assert code == 1 and len(summary["failed"]) == 3 and not summary["sent"]
    assert all(f["attempts"] == 2 for f in summary["failed"])
    assert err.count("not sent to") == 3


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) not installed")
def test_packet_and_brief_files(city, tmp_path, capsys):
    """`civicstat packet` and `civicstat brief` write PDFs holding the figures; both are rendered
    to PNG in test-artifacts/ to be looked at."""
    packet, brief = tmp_path / "packet.pdf", tmp_path / "brief.pdf"
    assert main(["packet", str(city), "--department", DEPARTMENT, "--out", str(packet)]) == 0
    assert main(["brief", str(city), "--district", DISTRICT, "--out", str(brief)]) == 0
    text = _pdf_text(packet)
    internal = ref.load(load_city(city).internal_path)
    as_of = internal["created_at"].max()
    end = dt.datetime.combine(as_of.date() + dt.timedelta(days=1), dt.time())
    now = ref.figures(ref.select(internal, department=DEPARTMENT), end - dt.timedelta(days=30),
                      end, as_of)
    before = ref.figures(ref.select(internal, department=DEPARTMENT), end - dt.timedelta(days=60),
                         end - dt.timedelta(days=30), as_of)
    line = next(row for row in text.splitlines() if row.strip().startswith("Requests received"))
    assert line.split()[-2:] == [f"{now['count_requests']:,}", f"{before['count_requests']:,}"]
    for needle in ("Request types off target", "Overdue requests by age", "Commitments (2)",
                   "Met", "pothole blitz"):
        assert needle in text
    assert f"{DISTRICT}: service requests briefing" in _pdf_text(brief)
    assert main(["brief", str(city), "--district", "Nowhere", "--out", str(brief)]) == 2
    ARTIFACTS.mkdir(exist_ok=True)
    for pdf, stem in ((packet, "issue15-packet"), (brief, "issue15-brief")):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / stem)], check=True)
    assert (ARTIFACTS / "issue15-packet-1.png").is_file()


def test_a_subscription_that_cannot_be_made_is_reported(city, smtp, tmp_path, capsys, monkeypatch):
    """A district the data does not have: reported (no attempt), and the others still sent."""
    from civicstat.cli import reports

    subscriptions = [Subscription("district", "Nowhere", ("a@b.example",), "weekly"),
                     Subscription("district", DISTRICT, ("c@d.example",), "weekly")]
    monkeypatch.setattr(reports, "load_subscriptions", lambda _: subscriptions)
    inbox = Inbox()
    code, summary, err = send(city, secrets_for(tmp_path, smtp(inbox)), capsys)
    assert code == 1 and [m["To"] for m in inbox.received] == ["c@d.example"]
    [failed] = summary["failed"]
    assert failed["to"] == "a@b.example" and failed["attempts"] == 0
    assert "Nowhere" in failed["error"] and "not sent to a@b.example" in err
