"""What may be public, in one place (no Streamlit): the column allow-list and coordinate
coarsening, the sensitive tiers, and the k rule with the basis of every public figure.

The k rule: a figure rests on a count, its basis (FIGURES says which, per figure). When the basis
is below k (and not zero) the figure is withheld: a count reads "fewer than k", a rate, median or
rate per 1,000 residents reads "too few". `is_shown` is the one place that decides; every surface
(tiles, tables, charts, maps, tooltips, legends, the brief and its PDF) asks it.

Drawn, a withheld figure has no size: no bar length, no point, no colour class, no axis or
legend break below k (`drawn` and `count_breaks`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from civicstat.core.city import City
from civicstat.core.schema import PUBLIC_COLUMN_NAMES
from civicstat.core.values import missing

# 3 decimal places of a degree: 111 m of latitude, about 85 m of longitude at 40° N.
COORDINATE_DECIMALS = 3

# The sensitive tiers a city may give a request type (city.toml [privacy.sensitive]).
SENSITIVE_TIERS = {
    "no_location": "published without a location",
    "aggregate_only": "published only as city-wide counts",
}

TOO_FEW = "too few"  # a rate or a median whose basis is below k


def fewer_than(k: int) -> str:
    """What a count below k reads."""
    return f"fewer than {k}"


def rule_text(k: int) -> str:
    """The k rule in words, for every page, the PDF and the staff view to state the same way."""
    return (f"counts below {k} read “{fewer_than(k)}”, and rates or medians resting on fewer "
            f"than {k} requests read “{TOO_FEW}”")


# A location is published only when it is usable: finite, not a placeholder, inside the city.
UNPUBLISHED_LOCATION_FLAGS = ("no_coordinates", "placeholder_coordinates", "outside_city")


def public_select_list(table_alias: str = "r", tier_column: str = "t.privacy_tier") -> str:
    """SELECT list for public rows: allow-listed columns only, coordinates coarsened, or removed
    for no_location types and for locations that are not finite or flagged as unusable (the
    rows' `flags`)."""
    r = table_alias
    flags = ", ".join(f"'{flag}'" for flag in UNPUBLISHED_LOCATION_FLAGS)
    hidden = (f"{tier_column} = 'no_location' or not isfinite({r}.lat) or not isfinite({r}.lon)"
              f" or coalesce(list_has_any({r}.flags, [{flags}]), false)")
    items = []
    for name in PUBLIC_COLUMN_NAMES:
        if name in ("lat", "lon"):
            items.append(
                f"case when {hidden} then null "
                f"else round({r}.{name}, {COORDINATE_DECIMALS}) end as {name}"
            )
        else:
            items.append(f"{table_alias}.{name}")
    return ",\n    ".join(items)


def privacy_tier(city: City, request_type: str | None) -> str | None:
    """'no_location', 'aggregate_only' or None for a request type."""
    return city.sensitive.get(request_type or "")


# --- the k rule and its basis per figure --------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """A public figure: how it is written (kind) and the count it rests on (basis)."""

    label: str
    kind: str  # count, rate, days, per_thousand
    basis: str  # the column (in the same row) holding its basis; a count is its own basis
    basis_text: str = ""  # the basis in words, for the methodology

    @property
    def is_count(self) -> bool:
        return self.kind == "count"


def _count(column: str, label: str) -> tuple[str, Figure]:
    return column, Figure(label, "count", column)


CLOSED_BASIS = "requests created in the period and closed since (the times it is taken over)"

# Every figure a public page, map, chart, download or the brief shows, by its column name in
# the queries (queries/public/*.sql). A figure not listed here cannot be shown (KeyError).
FIGURES: dict[str, Figure] = dict([
    _count("count_requests", "Requests"),
    _count("count_requests_previous", "Requests in the previous period"),
    _count("count_requests_last_year", "Requests a year earlier"),
    _count("count_opened", "Requests opened"),
    _count("count_closed", "Requests closed"),
    _count("count_open", "Requests open"),
    _count("count_open_at_end", "Open at end of period"),
    _count("count_overdue", "Open and past due"),
    _count("count_on_time", "Closed on time"),
    _count("count_on_time_eligible", "Requests due"),
    _count("count_with_days_to_close", "Requests closed"),
    _count("count_records", "Records"),
    _count("count_requests_in_period", "Requests in the period"),
    _count("count_with_location", "Records with a location"),
    ("on_time_rate", Figure(
        "On-time rate", "rate", "count_on_time_eligible",
        "requests that were due (closed ones with a due date, and open ones past it)")),
    ("median_days_to_close", Figure(
        "Median days to close", "days", "count_with_days_to_close", CLOSED_BASIS)),
    ("p90_days_to_close", Figure(
        "90th percentile days to close", "days", "count_with_days_to_close", CLOSED_BASIS)),
    ("median_target_days", Figure(
        "Median target days (of the requests' types)", "days", "count_requests_in_period",
        "requests received in the period (the target is the median of their types' targets, "
        "so it tells which types were asked for)")),
    ("requests_per_1000_residents", Figure(
        "Requests per 1,000 residents", "per_thousand", "count_requests",
        "requests received (the population is public, so the rate would give the count)")),
    ("share_of_closed", Figure(
        "Share of closed requests (days-to-close band)", "rate", "count_requests",
        "the band's own requests (the total is shown, so the share would give the count)")),
])


def is_small(count: object, k: int) -> bool:
    """A count the rule withholds: 0 < count < k (zero and missing are not small)."""
    return not missing(count) and 0 < float(count) < k  # type: ignore[arg-type]


def basis_of(figure: str, row: object) -> object:
    """The basis of `figure` in `row` (a mapping, a pandas row or a named tuple)."""
    column = FIGURES[figure].basis
    return getattr(row, column) if isinstance(row, tuple) else row[column]  # type: ignore[index]


def is_shown(figure: str, basis: object, k: int) -> bool:
    """THE k rule: is `figure`, resting on `basis` requests, shown? (It is withheld when its basis
    is below k; a count is its own basis.)"""
    FIGURES[figure]  # only listed figures are public
    return not is_small(basis, k)


def withheld_text(figure: str, k: int) -> str:
    """What a withheld figure reads: "fewer than k" for a count, "too few" otherwise."""
    return fewer_than(k) if FIGURES[figure].is_count else TOO_FEW


def drawn(figure: str, values: Iterable, bases: Iterable, k: int) -> list[float | None]:
    """The values to draw (bar lengths, points, colour classes): None where withheld, so a
    withheld figure is never drawn at its size."""
    return [
        float(value) if is_shown(figure, basis, k) and not missing(value) else None
        for value, basis in zip(values, bases, strict=True)
    ]


def count_breaks(breaks: list[float], k: int) -> list[float]:
    """Class breaks of a colour scale of counts with none below k (a withheld count has a class
    of its own, so a break under k would only describe counts that are not shown)."""
    return [b for b in breaks if b >= k]


def basis_table() -> list[tuple[str, str]]:
    """(figure, what it rests on) for every figure that is not a count, for the methodology."""
    return [(f.label, f.basis_text) for f in FIGURES.values() if not f.is_count]
