"""Streamlit building blocks pages share: filters bound to the URL, KPI tiles, legends, tables."""

from __future__ import annotations

import datetime as dt
import html
import math

import pandas as pd
import streamlit as st

from civicstat.filters import (
    DEFAULT_PERIOD,
    DIMENSION_LABELS,
    PERIOD_LABELS,
    Filters,
    resolve_period,
)


def as_datetime(value: object) -> dt.datetime:
    return pd.Timestamp(value).to_pydatetime()


def sidebar_filters(info: dict, options: pd.DataFrame, dimensions: tuple[str, ...]) -> Filters:
    """Period and dimension pickers in the sidebar, each bound to a URL query parameter."""
    as_of = as_datetime(info["as_of"])
    with st.sidebar:
        st.header("Filters")
        period_key = st.selectbox(
            "Period",
            list(PERIOD_LABELS),
            index=list(PERIOD_LABELS).index(DEFAULT_PERIOD),
            format_func=PERIOD_LABELS.get,
            key="period",
            bind="query-params",
        )
        custom = None
        if period_key == "custom":
            first = st.date_input(
                "From", as_of.date() - dt.timedelta(days=29), max_value=as_of.date(),
                key="from", bind="query-params",
            )
            last = st.date_input(
                "To", as_of.date(), max_value=as_of.date(), key="to", bind="query-params"
            )
            custom = (first, last)
        chosen = {}
        for dimension in dimensions:
            values = options.loc[options["dimension"] == dimension, "value"].tolist()
            chosen[dimension] = st.selectbox(
                DIMENSION_LABELS[dimension],
                values,
                index=None,
                placeholder="All",
                key=dimension,
                bind="query-params",
            )
    period = resolve_period(period_key, as_of, int(info["fiscal_year_start_month"]), custom)
    return Filters(period=period, as_of=as_of, dimensions=chosen)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def change_text(current: object, previous: object, kind: str) -> str | None:
    """The change against the previous period, in the unit people read it in."""
    if _is_missing(current) or _is_missing(previous):
        return None
    if kind == "count":
        if previous == 0:
            return None
        return f"{(current - previous) / previous:+.1%}"
    if kind == "rate":
        return f"{(current - previous) * 100:+.1f} pts"
    return f"{current - previous:+.1f} days"


def kpi_tiles(current: pd.Series, previous: pd.Series, period_days: int) -> None:
    """The four headline figures with their change against the previous period."""
    tiles = [
        ("Requests received", "count_requests", "count", lambda v: f"{int(v):,}", "off"),
        ("Median days to close", "median_days_to_close", "days", lambda v: f"{v:.1f}",
         "inverse"),
        ("On-time rate", "on_time_rate", "rate", lambda v: f"{v:.0%}", "normal"),
        ("Open at end of period", "count_open_at_end", "count", lambda v: f"{int(v):,}",
         "inverse"),
    ]
    columns = st.columns(len(tiles))
    for column, (label, key, kind, fmt, colour) in zip(columns, tiles, strict=True):
        value = current[key]
        column.metric(
            label,
            "no data" if _is_missing(value) else fmt(value),
            delta=change_text(value, previous[key], kind),
            delta_color=colour,
            help=f"Change against the previous {period_days} days",
            border=True,
        )


def legend(items: list[tuple[tuple[int, int, int], str]], title: str) -> None:
    """A map legend: one swatch per class. All text is escaped."""
    swatches = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
        f'<span aria-hidden="true" style="width:18px;height:14px;margin-right:6px;'
        f'border:1px solid #555;background:rgb{color}"></span>{html.escape(text)}</span>'
        for color, text in items
    )
    st.html(
        f'<div role="group" aria-label="{html.escape(title)} legend" '
        f'style="font-size:0.9rem;line-height:1.8"><b>{html.escape(title)}</b>: {swatches}</div>'
    )


def show_data(frame: pd.DataFrame, label: str = "Show the data") -> None:
    """The numbers behind a chart, in a collapsed table (for screen readers and checking)."""
    with st.expander(label):
        st.dataframe(frame, hide_index=True, width="stretch")
