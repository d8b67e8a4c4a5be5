"""The district briefing for council meetings: every figure for one district beside the city and
the previous period, its top request types, its biggest changes, and how it ranks; built once
(`build_brief`, from query results) and shown twice, on the /districts page and as a PDF
(civicstat.exports.brief_pdf), so both carry the same figures. No Streamlit and no database here:
the caller passes the query function (the web data layer, or a snapshot connection in scripts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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


