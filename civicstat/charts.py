"""Plotly chart builders: frames in, figures out, in a colour-blind-safe palette (Okabe-Ito)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

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
