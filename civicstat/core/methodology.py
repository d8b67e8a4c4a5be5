"""The definitions behind every figure, in the words the public pages use (the README's "What
the numbers mean" says the same; docs/architecture.md says where each rule is computed)."""

from __future__ import annotations

import math

from civicstat.core import privacy

AS_OF = (
    "“Now” is the data's as-of time: the latest created, updated or closed time in the data "
    "(a record dated in the future, or before any 311 system existed, never sets it), "
    "not the clock on the wall, so the same data always gives the same numbers."
)
DUPLICATES = (
    "Requests closed as duplicates (a repeat of a request already made) are left out of every "
    "figure."
)

# Which requests an on-time rate is about, in the words every page, the brief and the
# sentences use (issue 13, item 9: "due in the period" described another computation).
ON_TIME_SCOPE = ("requests made in the period that have a due date and are closed or already "
                 "past it")

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Requests received", "Requests created in the period."),
    ("Days to close", "Closed time minus created time, for closed requests where that is not "
     "negative. Shown in days to one decimal from a day up, and under a day in hours (5.5 hours) "
     "or minutes (45 min), so a quick service never reads 0.0."),
    ("Median days to close", "Half of the requests created in the period and closed since were "
     "closed within this many days."),
    ("90th percentile days to close", "Nine in ten of the requests created in the period and "
     "closed since were closed within this many days."),
    ("On-time rate", f"Of the {ON_TIME_SCOPE}, the share closed by the due date; those still "
     "open and not yet due are left out."),
    ("Due date", "The source's own target date where it has one, else the created time plus "
     "the request type's service target (listed below)."),
    ("Open (backlog)", "Requests open at the end of the period; for the usual periods, open now."),
    ("Overdue", "Open and past the due date."),
    ("Change", "The same figure for the period of the same length just before."),
    ("Same weeks last year", "On the Trends page, weekly counts are compared with the weeks 52 "
     "weeks earlier (same weekdays), monthly counts with the same month a year earlier."),
    ("Periods", "Whole days ending with the as-of day: the last 30, 90 or 365 days, the fiscal "
     "year to date, or custom dates."),
)


def target_text(hours: float | None) -> str:
    """A service target in the unit people think in: '8 hours', '3 days', '12 weeks'."""
    if hours is None or (isinstance(hours, float) and math.isnan(hours)):
        return "none"
    if hours < 48:
        return f"{hours:g} hours"
    days = hours / 24
    if days < 28 or days % 7:
        return f"{days:g} days"
    return f"{days / 7:g} weeks"


PRIVACY_TIERS = privacy.SENSITIVE_TIERS


def small_numbers(k: int) -> list[str]:
    """The k rule and what each figure rests on, as Markdown list lines (from privacy.FIGURES,
    the table the pages, maps, charts and the PDF apply)."""
    return [
        f"- Counts below **{k}** are shown as “{privacy.fewer_than(k)}”, in tables, charts, map "
        f"tooltips and downloads, and a rate or median resting on fewer than {k} requests reads "
        f"“{privacy.TOO_FEW}”. What each rests on:",
        *(f"  - {label}: {basis}." for label, basis in privacy.basis_table()),
        "  - Every count (requests, open, overdue, due, closed): itself.",
        f"- A withheld figure is never drawn at its size: its bar has no length, its point is left "
        f"out of the line, its hexagon or district is grey, no axis or legend break lies below "
        f"{k}, and no change against the previous period is given when either figure is "
        "withheld.",
    ]


# A backlog is stale when most of it is over a year old: common in partial exports, where the
# source never sent the closures of old requests. Below STALE_MIN_OPEN requests nothing is said.
STALE_AGE_DAYS = 365
STALE_SHARE = 0.5
STALE_MIN_OPEN = 20


def stale_backlog_note(count_open: int, count_over_a_year: int) -> str | None:
    """A warning when most open requests are over a year old, else None."""
    if count_open < STALE_MIN_OPEN or count_over_a_year < STALE_SHARE * count_open:
        return None
    return (
        f"{count_over_a_year:,} of the {count_open:,} open requests ({count_over_a_year / count_open:.0%}) "
        f"were made more than {STALE_AGE_DAYS} days ago. A backlog this old is often a sign that "
        "the source did not send the closures of old requests (a partial export, or a system "
        "that never closes some types): check with the department before reading it as work "
        "still to do."
    )
