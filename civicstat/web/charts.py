"""Plotly chart builders: frames in, figures out, in a colour-blind-safe palette (Okabe-Ito).

Public charts draw what civicstat.core.privacy allows: a withheld figure (a count below k, a rate
or median on too small a basis) is drawn without a size (`privacy.drawn` gives None: no bar
length, no point on a line) and labelled "fewer than k" / "too few"; when nothing is left to draw
at a size, the value axis is hidden (its autorange would otherwise still suggest a scale).
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from civicstat.core import figures, privacy
from civicstat.web.figure_cache import cached_figure

# Okabe & Ito (2008): distinguishable with the common forms of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
OPENED_COLOR, CLOSED_COLOR = OKABE_ITO[0], OKABE_ITO[1]


def plain(text: object) -> str:
    """Text from the data as plotly shows it: as text. Plotly reads a few HTML tags (links
    included) in tick labels, legend names, hover texts and annotations; with `&`, `<` and `>`
    escaped it shows them as written. Every name from the data passes through here."""
    return html.escape(str(text), quote=False)


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


def _hide_scale_if_nothing_drawn(fig: go.Figure, values: list, axis: str, k: int) -> go.Figure:
    """The value axis hidden, with a note, when no value is drawn at its size (all withheld)."""
    if values and all(v is None for v in values):
        fig.update_layout({axis: {"visible": False}})
        fig.add_annotation(
            text=f"Too few to draw: each value rests on fewer than {k} requests "
            "(the table gives them)",
            xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font={"color": "#55595f"},
        )
    return fig


@cached_figure
def opened_closed_weekly(weeks: pd.DataFrame, k: int) -> go.Figure:
    """Requests opened and closed per week; partial weeks at the edges drawn as open markers;
    weeks with fewer than k opened (or closed) are left out of that line."""
    full = weeks["count_days_in_period"] >= 7
    fig = go.Figure()
    drawn_all = []
    for column, name, color in (
        ("count_opened", "Opened", OPENED_COLOR),
        ("count_closed", "Closed", CLOSED_COLOR),
    ):
        drawn = privacy.drawn(column, weeks[column], weeks[column], k)
        drawn_all += drawn
        hover = [
            f"{figures.count(value, k, column)} {name.lower()} ({days} days in period)"
            for value, days in zip(weeks[column], weeks["count_days_in_period"], strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=weeks["week_start"],
                y=drawn,
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 3, "dash": "solid" if name == "Opened" else "dot"},
                marker={
                    "color": color,
                    "size": 7,
                    "symbol": ["circle" if f else "circle-open" for f in full],
                },
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    _layout(fig, y_title="Requests per week")
    return _hide_scale_if_nothing_drawn(fig, drawn_all, "yaxis", k)


# --- public pages -------------------------------------------------------------------------------
# Hover texts arrive preformatted (civicstat.core.figures): counts below k must read "fewer than k".

LAST_YEAR_DASH = "dot"


@cached_figure
def ranked_bars(
    labels: list[str],
    values: list[float | None],
    hover: list[str],
    *,
    x_title: str,
    color: str = OKABE_ITO[0],
    percent: bool = False,
    text: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars, largest at the top, with a value label on each bar. `values` as
    privacy.drawn gives them: a None bar has no length, only its label (from `text`) at zero.
    `labels` are names from the data (shown as text, see `plain`); `hover` is HTML."""
    labels = [plain(label) for label in labels]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": color},
            text=[None if v is None else t for v, t in zip(values, text, strict=True)]
            if text else None,
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
    for label, value, words in zip(labels, values, text or [""] * len(labels), strict=True):
        if value is None:  # withheld: its words where the bar would start, no length
            fig.add_annotation(x=0, y=label, text=html.escape(words), showarrow=False,
                               xanchor="left", font={"color": "#55595f"})
    if values and all(v is None for v in values):
        fig.update_layout(xaxis={"visible": False})
    return fig


@cached_figure
def volume_with_last_year(
    series: list[tuple[str, pd.DataFrame, list[str]]], grain: str, k: int
) -> go.Figure:
    """Requests per week or month: one colour per series, this year solid, a year earlier dotted;
    a week or month only partly in the period drawn with open markers; a week or month with
    fewer than k requests is left out of its line.

    `series`: (name, frame with bucket_start / count_requests / count_requests_last_year,
    hover text per row)."""
    fig = go.Figure()
    drawn_all = []
    for index, (name, frame, hover) in enumerate(series):
        color = OKABE_ITO[index % len(OKABE_ITO)]
        for column, suffix, dash, width in (
            ("count_requests", "", "solid", 3),
            ("count_requests_last_year", " (a year earlier)", LAST_YEAR_DASH, 2),
        ):
            drawn = privacy.drawn(column, frame[column], frame[column], k)
            drawn_all += drawn
            fig.add_trace(
                go.Scatter(
                    x=frame["bucket_start"], y=drawn, name=plain(f"{name}{suffix}"),
                    mode="lines+markers", line={"color": color, "width": width, "dash": dash},
                    marker={"size": 6 if dash == "solid" else 4, "symbol": [
                        "circle" if full else "circle-open" for full in
                        frame["count_days_in_period"] == frame["count_days_in_bucket"]
                    ]},
                    # this year's hover text also gives the year before
                    customdata=hover if dash == "solid" else None,
                    hovertemplate="%{customdata}<extra></extra>" if dash == "solid" else None,
                    hoverinfo=None if dash == "solid" else "skip",
                )
            )
    _layout(fig, y_title=f"Requests per {grain}", height=380)
    return _hide_scale_if_nothing_drawn(fig, drawn_all, "yaxis", k)


@cached_figure
def days_to_close_bands(bands: pd.DataFrame, k: int) -> go.Figure:
    """How long requests took to close: the share of closed requests in each band of days
    (days_to_close_distribution.sql); a band of fewer than k requests has no bar."""
    shares = privacy.drawn("share_of_closed", bands["share_of_closed"], bands["count_requests"], k)
    labels = [figures.cell("share_of_closed", row, k) for row in bands.itertuples(index=False)]
    hover = [
        f"{html.escape(str(row.band_label))}: {figures.count(row.count_requests, k)} requests "
        f"({label})"
        for row, label in zip(bands.itertuples(index=False), labels, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=bands["band_label"].tolist(), y=shares, marker={"color": OKABE_ITO[2]},
            text=[label if share is not None else None for share, label in
                  zip(shares, labels, strict=True)],
            textposition="outside",
            cliponaxis=False, customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        )
    )
    _layout(fig, y_title="Share of closed requests", height=340)
    fig.update_layout(hovermode="closest", yaxis={"tickformat": ".0%"}, showlegend=False)
    for band, share, label in zip(bands["band_label"], shares, labels, strict=True):
        if share is None:  # withheld: its words at the foot of the band, no height
            fig.add_annotation(x=band, y=0, yanchor="bottom", text=html.escape(label),
                               showarrow=False, textangle=-90, font={"color": "#55595f"})
    return _hide_scale_if_nothing_drawn(fig, shares, "yaxis", k)


@cached_figure
def backlog_over_time(frame: pd.DataFrame, k: int) -> go.Figure:
    """Requests open, and open past their due date, at the end of each day or week (a day with
    fewer than k is left out of its line)."""
    fig = go.Figure()
    drawn_all = []
    for column, name, color, dash in (
        ("count_open", "Open", OPENED_COLOR, "solid"),
        ("count_overdue", "Open and past due", OKABE_ITO[5], "dash"),
    ):
        drawn = privacy.drawn(column, frame[column], frame[column], k)
        drawn_all += drawn
        hover = [f"End of {day:%d %b %Y}: {figures.count(value, k, column)} "
                 + ("open" if column == "count_open" else "open and past due")
                 for day, value in zip(frame["last_day"], frame[column], strict=True)]
        fig.add_trace(
            go.Scatter(
                x=frame["last_day"], y=drawn, name=name, mode="lines",
                line={"color": color, "width": 3, "dash": dash},
                customdata=hover, hovertemplate="%{customdata}<extra></extra>",
            )
        )
    _layout(fig, y_title="Requests open", height=340)
    return _hide_scale_if_nothing_drawn(fig, drawn_all, "yaxis", k)


@cached_figure
def against_goal(
    labels: list[str],
    values: list[float | None],
    goals: list[float],
    statuses: list[str | None],
    hover: list[str],
    text: list[str],
    *,
    x_title: str,
) -> go.Figure:
    """Horizontal bars of a rate against each row's goal, highest first: each bar in its status
    colour (STATUS_COLORS: Okabe-Ito green, orange, vermillion), the rate and status in words
    under the row's name (`text`: never colour alone, and clear of bars and goal marks at any
    width), the goal a black line (one across the chart when every row has the same goal, else a
    mark on each bar). `values` as privacy.drawn gives them: a withheld rate has no bar and no
    colour, and its words say so; its goal is still drawn (a goal is the city's, not the data's).
    `labels` are names from the data (shown as text, see `plain`); `hover` is HTML."""
    rows = [f"{plain(label)}<br>{html.escape(words)}"
            for label, words in zip(labels, text, strict=True)]
    fig = go.Figure(go.Bar(
        x=values, y=rows, orientation="h",
        marker={"color": [STATUS_COLORS.get(s) if v is not None else "#bbbbbb"
                          for v, s in zip(values, statuses, strict=True)],
                "line": {"color": "#333", "width": 0.5}},
        customdata=hover, hovertemplate="%{customdata}<extra></extra>",
    ))
    _layout(fig, y_title="", height=max(240, 46 * len(rows) + 80))
    fig.update_layout(
        hovermode="closest", showlegend=False, margin={"l": 10, "r": 20, "t": 30, "b": 10},
        yaxis={"autorange": "reversed", "gridcolor": "rgba(0,0,0,0)", "automargin": True},
        xaxis={"title": x_title, "range": [0, 1.04], "tickformat": ".0%",
               "gridcolor": "#e5e5e5"},
    )
    if len(set(goals)) == 1:
        fig.add_vline(x=goals[0], line_color="#000", line_width=2, line_dash="dash",
                      annotation_text=f"Goal {goals[0]:.0%}", annotation_position="top")
    else:
        for index, goal in enumerate(goals):
            fig.add_shape(type="line", x0=goal, x1=goal, y0=index - 0.45, y1=index + 0.45,
                          xref="x", yref="y", line={"color": "#000", "width": 3})
        fig.add_annotation(x=goals[0], y=0, yshift=22, text="goal", showarrow=False,
                           font={"size": 12})
    if values and all(v is None for v in values):
        fig.update_layout(xaxis={"visible": False})
    return fig


@cached_figure
def weekly_against_target(weeks: pd.DataFrame, column: str, k: int, target: float | None,
                          *, y_title: str, target_text: str) -> go.Figure:
    """A weekly figure (weekly_on_time.sql: `column` is on_time_rate or median_days_to_close)
    as a line against its target, a dashed black line labelled `target_text`; a week whose
    figure the k rule withholds has no point; a week only partly in the period has an open
    marker."""
    rows = list(weeks.itertuples(index=False))
    drawn = privacy.drawn(column, weeks[column], [privacy.basis_of(column, r) for r in rows], k)
    percent = privacy.FIGURES[column].kind == "rate"
    hover = [f"Week of {row.week_start:%d %b %Y}: {figures.cell(column, row, k)}"
             + ("" if row.count_days_in_period >= 7
                else f" ({row.count_days_in_period} days in the period)")
             for row in rows]
    fig = go.Figure(go.Scatter(
        x=weeks["week_start"], y=drawn, mode="lines+markers", name=y_title,
        line={"color": OKABE_ITO[0], "width": 3},
        marker={"size": 7, "symbol": ["circle" if d >= 7 else "circle-open"
                                      for d in weeks["count_days_in_period"]]},
        customdata=hover, hovertemplate="%{customdata}<extra></extra>",
    ))
    _layout(fig, y_title=y_title, height=320)
    fig.update_layout(hovermode="closest", showlegend=False)
    if percent:
        fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1.05]})
    if target is not None:
        fig.add_hline(y=target, line_color="#000", line_width=2, line_dash="dash",
                      annotation_text=html.escape(target_text),
                      annotation_position="top left")
    return _hide_scale_if_nothing_drawn(fig, drawn, "yaxis", k)


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
    labels = [plain(n) for n in rows["group_key"]]
    fig = go.Figure()
    for (column, bucket), color in zip(AGING_BUCKETS.items(), AGING_COLORS, strict=True):
        fig.add_trace(go.Bar(y=labels, x=rows[column], name=bucket, orientation="h",
                             marker={"color": color},
                             hovertemplate="%{y}: %{x:,} open " + bucket + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, y_title="", height=max(260, 30 * len(rows) + 100))
    # The legend in a band of its own above the plot, as wide as the figure (not the plot, which
    # long group names push right): on a phone its four buckets take one or two rows there
    # instead of a column lying over the largest bar, which is at the top.
    fig.update_layout(barmode="stack", hovermode="closest",
                      legend={"traceorder": "normal", "orientation": "h", "xref": "container",
                              "x": 0, "yref": "container", "y": 1, "yanchor": "top"},
                      margin={"t": 70},
                      xaxis={"title": "Open requests", "gridcolor": "#e5e5e5"})
    return fig


FLAG_LABELS = {  # quality_flags.sql's flags, as people read them
    "closed_before_created": "Closed before created",
    "no_coordinates": "No coordinates",
    "placeholder_coordinates": "Placeholder coordinates",
    "outside_city": "Outside the city",
    "unknown_district": "District not in the boundary layer",
    "unknown_status": "Unknown status",
    "duplicate_id_in_file": "Id repeated in a file",
    "closed_as_duplicate": "Closed as duplicate",
    "date_in_future": "Date in the future",
    "date_before_earliest": "Date before the earliest plausible",
}


@cached_figure
def flags_by_month(flags: pd.DataFrame) -> go.Figure:
    """Flagged requests per month (quality_flags.sql, summed over sources), one bar per flag."""
    monthly = flags.groupby(["month", "flag"], as_index=False)["count_flagged"].sum()
    fig = go.Figure()
    for index, (flag, rows) in enumerate(monthly.groupby("flag", sort=True)):
        label = FLAG_LABELS.get(flag, plain(flag))
        fig.add_trace(go.Bar(x=rows["month"], y=rows["count_flagged"], name=label,
                             marker={"color": OKABE_ITO[index % len(OKABE_ITO)]},
                             hovertemplate="%{x|%B %Y}: %{y:,} " + label + "<extra></extra>"))
    fig = _layout(fig, y_title="Flagged requests per month")
    fig.update_layout(barmode="stack", hovermode="closest", showlegend=True)
    return fig
