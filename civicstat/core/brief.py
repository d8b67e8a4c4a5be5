"""The district briefing for council meetings: every figure for one district beside the city, the
previous period, the same period a year earlier and the 365-day average (per period of the same
length), with the actual dates of each; its top request types, its biggest changes, and how it
ranks; built once
(`build_brief`, from query results) and shown twice, on the /districts page and as a PDF
(civicstat.exports.brief_pdf), so both carry the same figures. No Streamlit and no database here:
the caller passes the query function (the web data layer, or a snapshot connection in scripts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from civicstat.core import figures, privacy
from civicstat.core.city import DistrictLabels
from civicstat.core.filters import Filters
from civicstat.core.values import missing


@dataclass(frozen=True)
class Kpi:
    """One figure for the district (this period and the previous one) and for the city, each
    with the count it rests on (its basis: privacy.FIGURES)."""

    label: str
    figure: str  # its name in privacy.FIGURES: how it is written and what it rests on
    district: object
    previous: object
    city: object
    basis: object = None  # the count the district's figure rests on
    basis_previous: object = None
    basis_city: object = None
    last_year: object = None  # the same dates a year earlier
    basis_last_year: object = None
    average: object = None  # the 365 days to the period's end, per period of the same length
    basis_average: object = None
    averaged: bool = True  # False: a figure with no 365-day average (open at the end)

    @property
    def kind(self) -> str:
        """count, rate, days or per_thousand."""
        return privacy.FIGURES[self.figure].kind

    def shown(self, k: int) -> tuple[str, str, str, str]:
        """(district, previous period, change, city) as text; no change unless both periods'
        figures are shown."""
        district = figures.figure(self.figure, self.district, self.basis, k)
        previous = figures.figure(self.figure, self.previous, self.basis_previous, k)
        city = figures.figure(self.figure, self.city, self.basis_city, k)
        change = figures.figure_change(
            self.figure, self.district, self.previous, self.basis, self.basis_previous, k
        )
        return district, previous, change or "–", city

    def beside(self, k: int) -> tuple[str, str]:
        """(the same period a year earlier, the 365-day average) as text, each through the k
        rule on its own basis; "–" where the figure has no average."""
        last_year = figures.figure(self.figure, self.last_year, self.basis_last_year, k)
        if not self.averaged:
            return last_year, "–"
        return last_year, figures.figure(self.figure, self.average, self.basis_average, k)


YEAR_DAYS = 365


def date_range(start: dt.datetime, end: dt.datetime) -> str:
    """[start, end) of whole days as people read it, the last day inclusive:
    '1 Mar 2024 – 31 Mar 2024 (31 days)'."""
    last = end - dt.timedelta(days=1)
    days = (end - start).days
    return (f"{start.day} {start:%b %Y} – {last.day} {last:%b %Y} "
            f"({days:,} day{'s' if days != 1 else ''})")


def last_year_dates(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The same dates a year earlier, the same length (29 February becomes 28 February)."""
    earlier = (pd.Timestamp(start) - pd.DateOffset(years=1)).to_pydatetime()
    return earlier, earlier + (end - start)


def _kpi(label: str, figure: str, rows: dict[str, pd.Series],
         values: dict[str, object] | None = None, bases: dict[str, object] | None = None,
         *, averaged: bool = True) -> Kpi:
    """A Kpi of the figure `figure` from the overview_kpis rows (district, previous, city,
    last_year, average: each that row's value and basis for it, unless given)."""
    values, bases = values or {}, bases or {}
    value = {name: values[name] if name in values else row[figure] for name, row in rows.items()}
    basis = {name: bases[name] if name in bases else privacy.basis_of(figure, row)
             for name, row in rows.items()}
    return Kpi(
        label, figure, value["district"], value["previous"], value["city"],
        basis["district"], basis["previous"], basis["city"],
        value["last_year"], basis["last_year"], value["average"], basis["average"],
        averaged=averaged,
    )


@dataclass(frozen=True)
class DistrictBrief:
    city_name: str
    district: str
    period_label: str
    period_days: int
    as_of: dt.datetime
    period_start: dt.datetime
    period_end: dt.datetime  # exclusive: the day after the period's last day
    filters_text: str
    k: int
    kpis: tuple[Kpi, ...]
    top_types: pd.DataFrame  # breakdown.sql rows (by request type) for the district, top 10
    increases: tuple[str, ...]
    decreases: tuple[str, ...]
    standing: tuple[str, ...]
    districts: pd.DataFrame = field(repr=False)  # district_summary.sql rows, for the map
    district_labels: DistrictLabels = field(default_factory=DistrictLabels, repr=False)

    @property
    def name(self) -> str:
        """The district as people read it ("Council District 1"; city.toml [districts])."""
        return self.district_labels.label(self.district)

    @property
    def title(self) -> str:
        return f"{self.name}: service requests briefing"

    @property
    def period_dates(self) -> str:
        return date_range(self.period_start, self.period_end)

    @property
    def previous_dates(self) -> str:
        return date_range(self.period_start - (self.period_end - self.period_start),
                          self.period_start)

    @property
    def last_year_dates(self) -> str:
        return date_range(*last_year_dates(self.period_start, self.period_end))

    @property
    def average_dates(self) -> str:
        return date_range(self.period_end - dt.timedelta(days=YEAR_DAYS), self.period_end)

    def periods(self) -> tuple[tuple[str, str], ...]:
        """(what, its dates) for each period the brief compares, for the page and the PDF."""
        return (
            ("This period", self.period_dates),
            ("Previous period", self.previous_dates),
            ("Same period last year", self.last_year_dates),
            ("365-day average", f"{self.average_dates}, per {self.period_days:,} days"),
        )

    @property
    def average_note(self) -> str:
        return (f"The 365-day average gives counts per {self.period_days:,} days (the year's "
                "count scaled to the period's length), and medians and rates over the 365 days; "
                "open at the end of the period has no average.")


def build_brief(
    filters: Filters, district: str, info: dict, query: Callable[..., pd.DataFrame]
) -> DistrictBrief:
    """Every figure of the briefing for `district` under `filters` (its district ignored);
    `query(name, **params)` runs a public read query."""
    k = int(info["k"])
    times = filters.params("start", "end", "prev_start", without=("district",))
    mine = query("overview_kpis", **times, district=district).set_index("period")
    city = query("overview_kpis", **times, district=None).set_index("period")
    summary = query(
        "district_summary", **filters.params("start", "end", without=("district",))
    )
    types = query("breakdown", group_by="request_type", **times, district=district)
    now, before, whole = mine.loc["current"], mine.loc["previous"], city.loc["current"]
    length = filters.period.end - filters.period.start
    year_start, year_end = last_year_dates(filters.period.start, filters.period.end)
    last_year = query("overview_kpis", **{
        **times, "start": year_start, "end": year_end, "prev_start": year_start - length,
    }, district=district).set_index("period").loc["current"]
    year_from = filters.period.end - dt.timedelta(days=YEAR_DAYS)
    year = query("overview_kpis", **{
        **times, "start": year_from, "prev_start": year_from - dt.timedelta(days=YEAR_DAYS),
    }, district=district).set_index("period").loc["current"]
    # A count's 365-day average per period of this length, written in whole requests; a count
    # is its own basis (privacy.FIGURES): an average below k reads "fewer than k".
    average_count = year.count_requests * (length / dt.timedelta(days=YEAR_DAYS))
    rows = {"district": now, "previous": before, "city": whole, "last_year": last_year,
            "average": year}

    kpis = [_kpi("Requests received", "count_requests", rows,
                 {"average": round(average_count)}, {"average": average_count})]
    row = summary[summary["district"] == district]
    population = row["population"].iloc[0] if len(row) else None
    if not missing(population) and population:
        city_population = summary["population"].sum()
        kpis.append(_kpi(
            "Requests per 1,000 residents", "requests_per_1000_residents", rows,
            {"district": 1000 * now.count_requests / population,
             "previous": 1000 * before.count_requests / population,
             "city": 1000 * whole.count_requests / city_population if city_population else None,
             "last_year": 1000 * last_year.count_requests / population,
             "average": 1000 * average_count / population},
            {"average": average_count},
        ))
    kpis += [
        _kpi("Median days to close", "median_days_to_close", rows),
        _kpi("90th percentile days to close", "p90_days_to_close", rows),
        _kpi("On-time rate", "on_time_rate", rows),
        _kpi("Open at end of period", "count_open_at_end", rows, averaged=False),
    ]
    increases, decreases = biggest_changes(types, k)
    return DistrictBrief(
        city_name=str(info["city_name"]),
        district=district,
        period_label=filters.period.label,
        period_days=filters.period.days,
        as_of=pd.Timestamp(info["as_of"]).to_pydatetime(),
        period_start=filters.period.start,
        period_end=filters.period.end,
        filters_text=filters.describe(),
        k=k,
        kpis=tuple(kpis),
        top_types=types.head(10).reset_index(drop=True),
        increases=increases,
        decreases=decreases,
        standing=standing(summary, district, k),
        districts=summary,
        district_labels=DistrictLabels.from_info(info),
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
    """Where the district ranks among all districts (those whose figure is shown: privacy's k
    rule on the figure's own basis), in words."""
    checks = (  # column, what, (best, worst), lower is better
        ("median_days_to_close", "median time to close", ("fastest", "slowest"), True),
        ("on_time_rate", "on-time rate", ("highest", "lowest"), False),
        ("requests_per_1000_residents", "number of requests per 1,000 residents",
         ("highest", "lowest"), False),
    )
    sentences = []
    for column, what, (best, worst), lower_is_better in checks:
        if column not in summary:
            continue
        shown = [privacy.is_shown(column, privacy.basis_of(column, row), k)
                 for row in summary.itertuples(index=False)]
        ranked = summary[shown].dropna(subset=[column])
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
        value = figures.cell(column, order.loc[position - 1], k)
        sentences.append(f"{district} has the {rank} {what} of the {total} districts ({value}).")
    if not sentences:
        sentences.append(f"Too few requests in {district} to rank it against other districts.")
    return tuple(sentences)
