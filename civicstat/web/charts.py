"""Plotly chart builders: frames in, figures out, in a colour-blind-safe palette (Okabe-Ito)."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from civicstat.web.figure_cache import cached_figure

# Okabe & Ito (2008): distinguishable with the common forms of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
OPENED_COLOR, CLOSED_COLOR = OKABE_ITO[0], OKABE_ITO[1]


def _layout(fig: go.Figure, *, y_title: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        hovermode="x unified",
        font={"size": 14},
        plot_bgcolor="white",
        yaxis={"title": y_title, "gridcolor": "#e5e5e5", "rangemode": "tozero"},
        xaxis={"gridcolor": "#f0f0f0"},
    )
    return fig


@cached_figure
def opened_closed_weekly(weeks: pd.DataFrame) -> go.Figure:
    """Requests opened and closed per week; partial weeks at the edges drawn as open markers."""
    full = weeks["count_days_in_period"] >= 7
    fig = go.Figure()
    for column, name, color in (
        ("count_opened", "Opened", OPENED_COLOR),
        ("count_closed", "Closed", CLOSED_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=weeks["week_start"],
                y=weeks[column],
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 3, "dash": "solid" if name == "Opened" else "dot"},
                marker={
                    "color": color,
                    "size": 7,
                    "symbol": ["circle" if f else "circle-open" for f in full],
                },
                customdata=weeks["count_days_in_period"],
                hovertemplate="%{y:,} " + name.lower() + " (%{customdata} days in period)"
                "<extra></extra>",
            )
        )
    return _layout(fig, y_title="Requests per week")


# --- public pages -------------------------------------------------------------------------------
# Hover texts arrive preformatted (civicstat.core.figures): counts below k must read "fewer than k".

LAST_YEAR_DASH = "dot"


@cached_figure
def ranked_bars(
    labels: list[str],
    values: list[float],
    hover: list[str],
    *,
    x_title: str,
    color: str = OKABE_ITO[0],
    percent: bool = False,
    text: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars, largest at the top, with a value label on each bar."""
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": color},
            text=text,
            textposition="outside",
            cliponaxis=False,
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    _layout(fig, y_title="", height=max(220, 34 * len(labels) + 70))
    fig.update_layout(
        hovermode="closest",
        showlegend=False,
        margin={"l": 10, "r": 60, "t": 10, "b": 10},
        yaxis={"autorange": "reversed", "gridcolor": "rgba(0,0,0,0)", "automargin": True},
        xaxis={"title": x_title, "rangemode": "tozero", "gridcolor": "#e5e5e5",
               "tickformat": ".0%" if percent else ",", "range": [0, 1.08] if percent else None},
    )
    return fig


@cached_figure
def volume_with_last_year(series: list[tuple[str, pd.DataFrame, list[str]]], grain: str) -> go.Figure:
    """Requests per week or month: one colour per series, this year solid, a year earlier dotted.

    `series`: (name, frame with bucket_start / count_requests / count_requests_last_year,
    hover text per row)."""
    fig = go.Figure()
    for index, (name, frame, hover) in enumerate(series):
        color = OKABE_ITO[index % len(OKABE_ITO)]
        for column, suffix, dash, width in (
            ("count_requests", "", "solid", 3),
            ("count_requests_last_year", " (a year earlier)", LAST_YEAR_DASH, 2),
        ):
            fig.add_trace(
                go.Scatter(
                    x=frame["bucket_start"], y=frame[column], name=f"{name}{suffix}",
                    mode="lines+markers", line={"color": color, "width": width, "dash": dash},
                    marker={"size": 6 if dash == "solid" else 4, "symbol": [
                        "circle" if full else "circle-open" for full in
                        frame["count_days_in_period"] >= (7 if grain == "week" else 28)
                    ]},
                    # this year's hover text also gives the year before
                    customdata=hover if dash == "solid" else None,
                    hovertemplate="%{customdata}<extra></extra>" if dash == "solid" else None,
                    hoverinfo=None if dash == "solid" else "skip",
                )
            )
    return _layout(fig, y_title=f"Requests per {grain}", height=380)


@cached_figure
def days_to_close_bands(labels: list[str], shares: list[float], hover: list[str]) -> go.Figure:
    """How long requests took to close: the share of closed requests in each band of days."""
    fig = go.Figure(
        go.Bar(
            x=labels, y=shares, marker={"color": OKABE_ITO[2]},
            text=[f"{s:.0%}" if s == s else "" for s in shares], textposition="outside",
            cliponaxis=False, customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        )
    )
    _layout(fig, y_title="Share of closed requests", height=340)
    fig.update_layout(hovermode="closest", yaxis={"tickformat": ".0%"}, showlegend=False)
    return fig


@cached_figure
def backlog_over_time(frame: pd.DataFrame, hover_open: list[str], hover_overdue: list[str]) -> go.Figure:
    """Requests open, and open past their due date, at the end of each day or week."""
    fig = go.Figure()
    for column, name, color, dash, hover in (
        ("count_open", "Open", OPENED_COLOR, "solid", hover_open),
        ("count_overdue", "Open and past due", OKABE_ITO[5], "dash", hover_overdue),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame["last_day"], y=frame[column], name=name, mode="lines",
                line={"color": color, "width": 3, "dash": dash},
                customdata=hover, hovertemplate="%{customdata}<extra></extra>",
            )
        )
    return _layout(fig, y_title="Requests open", height=340)


# --- staff pages --------------------------------------------------------------------------------
# Names come from the source data: they are HTML-escaped before plotly sees them (plotly reads a
# few tags, links included, in its text).

STATUS_COLORS = {"green": OKABE_ITO[2], "amber": OKABE_ITO[1], "red": OKABE_ITO[5], None: "#bbbbbb"}
AGING_COLORS = ["#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]  # ColorBrewer OrRd: older is darker


@cached_figure
def score_bars(scored: pd.DataFrame, amber_floor: float) -> go.Figure:
    """Horizontal bars of each row's score (civicstat.core.scorecard.score_frame, the total row left
    out) against target (1.0), coloured red/amber/green, lowest score at the top."""
    rows = scored[~scored["is_total"]].sort_values("score", na_position="first")
    labels = [html.escape(str(name)) for name in rows["group_key"]]
    values = [None if pd.isna(s) else min(float(s), 2.0) for s in rows["score"]]
    statuses = rows["score_status"].tolist()
    fig = go.Figure(
        go.Bar(
            y=labels, x=values, orientation="h",
            marker={"color": [STATUS_COLORS.get(s, "#bbbbbb") for s in statuses],
                    "line": {"color": "#333", "width": 0.5}},
            text=["–" if v is None else f"{v:.2f}" for v in values], textposition="outside",
            hovertemplate="%{y}: score %{x:.2f}<extra></extra>",
        )
    )
    for x, dash, text in ((1.0, "solid", "on target"), (amber_floor, "dot", "")):
        fig.add_vline(x=x, line_dash=dash, line_color="#333", annotation_text=text,
                      annotation_position="top")
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, y_title="", height=max(260, 34 * len(labels) + 80))
    fig.update_layout(hovermode="closest", showlegend=False,
                      xaxis={"title": "Score (1 = on target; capped at 2 on this chart)",
                             "range": [0, 2.1]})
    return fig


AGING_BUCKETS = {  # backlog_aging.sql's columns, youngest first
    "count_age_0_7": "0–7 days",
    "count_age_8_30": "8–30 days",
    "count_age_31_90": "31–90 days",
    "count_age_over_90": "over 90 days",
}


@cached_figure
def aging_bars(aging: pd.DataFrame, limit: int = 20) -> go.Figure:
    """Open requests per group (the `limit` largest, as backlog_aging.sql orders them), stacked
    by age bucket, youngest first."""
    rows = aging[~aging["is_total"]].head(limit)
    labels = [html.escape(str(n)) for n in rows["group_key"]]
    fig = go.Figure()
    for (column, bucket), color in zip(AGING_BUCKETS.items(), AGING_COLORS, strict=True):
        fig.add_trace(go.Bar(y=labels, x=rows[column], name=bucket, orientation="h",
                             marker={"color": color},
                             hovertemplate="%{y}: %{x:,} open " + bucket + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, y_title="", height=max(260, 30 * len(rows) + 100))
    fig.update_layout(barmode="stack", hovermode="closest", legend={"traceorder": "normal"},
                      xaxis={"title": "Open requests", "gridcolor": "#e5e5e5"})
    return fig


FLAG_LABELS = {  # quality_flags.sql's flags, as people read them
    "closed_before_created": "Closed before created",
    "no_coordinates": "No coordinates",
    "placeholder_coordinates": "Placeholder coordinates",
    "outside_city": "Outside the city",
    "unknown_status": "Unknown status",
    "duplicate_id_in_file": "Id repeated in a file",
    "closed_as_duplicate": "Closed as duplicate",
}


@cached_figure
def flags_by_month(flags: pd.DataFrame) -> go.Figure:
    """Flagged requests per month (quality_flags.sql, summed over sources), one bar per flag."""
    monthly = flags.groupby(["month", "flag"], as_index=False)["count_flagged"].sum()
    fig = go.Figure()
    for index, (flag, rows) in enumerate(monthly.groupby("flag", sort=True)):
        label = FLAG_LABELS.get(flag, html.escape(str(flag)))
        fig.add_trace(go.Bar(x=rows["month"], y=rows["count_flagged"], name=label,
                             marker={"color": OKABE_ITO[index % len(OKABE_ITO)]},
                             hovertemplate="%{x|%B %Y}: %{y:,} " + label + "<extra></extra>"))
    fig = _layout(fig, y_title="Flagged requests per month")
    fig.update_layout(barmode="stack", hovermode="closest", showlegend=True)
    return fig
