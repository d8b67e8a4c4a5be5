"""Look up my request: what a resident sees of one request by its number, from the public snapshot
only (no Streamlit, no database: the caller passes the query function, as for the brief).

Public columns only (queries/public/request_lookup.sql reads the public requests table, which
holds no address, description or resolution). A request of an aggregate-only type answers exactly
as a number that does not exist, so its existence is not revealed; a no-location type shows no
location, not even its district. How long requests like it usually take is the median and the
90th percentile time to close of its type over the last 365 days (overview_kpis.sql, the figures
every page uses), through the k rule on their basis: fewer than k closed requests read "too few".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from civicstat.core import figures, privacy
from civicstat.core.filters import DIMENSIONS, resolve_period
from civicstat.core.values import missing

MAX_ID_LENGTH = 64  # request numbers are short; anything longer is not looked up
TYPICAL_PERIOD = "365d"  # "requests like it": its type, made in the last 365 days and closed

NOT_FOUND = ("No public request has this number. Check the number on your confirmation; a "
             "request made in the last few hours may not be published yet.")
TOO_LONG = f"A request number has at most {MAX_ID_LENGTH} characters."
NOT_PRINTABLE = "A request number is letters, digits and punctuation only."


def clean_id(text: object) -> tuple[str | None, str | None]:
    """(the request number to look up, or None; why not, or None): spaces and a leading '#'
    trimmed; empty is no look-up; over MAX_ID_LENGTH characters or with control characters is
    refused without a look-up."""
    if missing(text):
        return None, None
    value = str(text).strip().lstrip("#").strip()
    if not value:
        return None, None
    if len(value) > MAX_ID_LENGTH:
        return None, TOO_LONG
    if not value.isprintable():
        return None, NOT_PRINTABLE
    return value, None


def _when(value: object) -> str:
    return "" if missing(value) else f"{pd.Timestamp(value):%a %d %b %Y, %H:%M}"


@dataclass(frozen=True)
class Found:
    """One public request as a resident reads it."""

    request_id: str
    facts: tuple[tuple[str, str], ...]  # (what, its value) in reading order
    typical: str  # how long requests like it usually take, in a sentence


def status_text(row: pd.Series) -> str:
    if row["status"] == "closed":
        closure = "" if missing(row["closure"]) else f" ({row['closure']})"
        return f"Closed{closure}"
    if row["status"] == "open":
        return "Open"
    return "Not recorded by the source"


def due_text(row: pd.Series, as_of: dt.datetime) -> str:
    """Whether it was closed by its due date (core/definitions.py: is_on_time), in words."""
    if missing(row["due_at"]):
        return "No due date was set for this request."
    if row["status"] == "closed":
        if missing(row["is_on_time"]):
            return "Closed; its closing time was not recorded."
        return ("Yes: closed by its due date." if bool(row["is_on_time"])
                else "No: closed after its due date.")
    if row["status"] == "open":
        return ("Not yet: it is open and past its due date." if pd.Timestamp(row["due_at"]) < as_of
                else "Not yet due: it is open and due by the date above.")
    return "Not known: the source records no status."


def typical_sentence(kpis: pd.Series, request_type: str, period_text: str, k: int) -> str:
    """How long requests of this type usually take (overview_kpis.sql's current row for the
    type over `period_text`), each figure through the k rule on its basis."""
    basis = kpis["count_with_days_to_close"]
    scope = f"{request_type} requests made in {period_text}"
    if missing(basis) or int(basis) == 0:
        return f"None of the {scope} has been closed yet, so there is no typical time to give."
    if not privacy.is_shown("median_days_to_close", basis, k):
        return (f"Too few of the {scope} have been closed (fewer than {k}) to say how long "
                "requests like this usually take.")
    median = figures.figure("median_days_to_close", kpis["median_days_to_close"], basis, k)
    p90 = figures.figure("p90_days_to_close", kpis["p90_days_to_close"], basis, k)
    closed = figures.count(basis, k, "count_with_days_to_close")
    return (f"Half of the requests like this are closed within {median}, and 9 in 10 within "
            f"{p90} (from the {closed} {scope} that have been closed).")


def look_up(
    request_id: str, info: dict, query: Callable[..., pd.DataFrame]
) -> Found | None:
    """The public request `request_id` (a clean_id value), or None when there is none or its
    type is aggregate-only; `query(name, **params)` runs a public read query."""
    rows = query("request_lookup", request_id=request_id)
    if rows.empty:
        return None
    row = rows.iloc[0]
    k = int(info["k"])
    as_of = pd.Timestamp(info["as_of"]).to_pydatetime()
    facts = [
        ("Status", status_text(row)),
        ("Request type", "" if missing(row["request_type"]) else str(row["request_type"])),
        ("Department", "" if missing(row["department"]) else str(row["department"])),
        ("Created", _when(row["created_at"])),
    ]
    if row["status"] == "closed" and not missing(row["closed_at"]):
        facts.append(("Closed", _when(row["closed_at"])))
        if not missing(row["days_to_close"]):
            facts.append(("Time to close", figures.duration(float(row["days_to_close"]))))
    else:
        facts.append(("Last updated", _when(row["updated_at"])))
    facts.append(("Due by", _when(row["due_at"]) or "no due date"))
    facts.append(("Closed by its due date?", due_text(row, as_of)))
    if row["privacy_tier"] == "no_location":
        facts.append(("Where", "Not published for this type of request."))
    else:
        area = [str(row[c]) for c in ("district", "neighborhood") if not missing(row[c])]
        facts.append(("Where", ", ".join(area) or "Not recorded"))

    typical = "No request type is recorded, so there is nothing to compare it with."
    if not missing(row["request_type"]):
        period = resolve_period(TYPICAL_PERIOD, as_of)
        params = {d: None for d in DIMENSIONS} | {"request_type": str(row["request_type"])}
        kpis = query("overview_kpis", start=period.start, end=period.end,
                     prev_start=period.prev_start, **params).set_index("period").loc["current"]
        last_day = period.end - dt.timedelta(days=1)
        typical = typical_sentence(
            kpis, str(row["request_type"]), f"the {period.days} days to {last_day:%d %b %Y}", k)
    return Found(str(row["request_id"]), tuple(facts), typical)
