"""Public charts that can go into a newsletter: each one carries, in the figure itself, its title,
the period (with its dates), the filters, the as-of date and "Source: CivicStat, <city>", and its
toolbar offers one button, Plotly's own "Download plot as a PNG" (toImage), named for the chart.

Why in the figure, drawn by the browser: Plotly's toImage draws exactly the figure on the screen,
so the image carries what the page shows and nothing else (the figures were already put through
the k rule before the chart was built: charts.py and core/privacy.py; hover texts never reach an
image). Nothing is rendered on the server (no kaleido or headless browser per download, no CPU
per image), and the words on the image are the same ones a screenshot of the page would show.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from civicstat.core import privacy
from civicstat.core.filters import Filters
from civicstat.web.charts import plain

TITLE_PIXELS, LINE_PIXELS = 40, 21  # the title's height, and each context line's (12 px type)
RULE_WIDTH = 70  # characters per line of the k rule's wording
IMAGE_WIDTH = 1200  # the PNG's width in CSS pixels (scale 2: 2,400 pixels)


@dataclass(frozen=True)
class ChartContext:
    """What every public chart image says about where its figures come from."""

    city: str
    period: str  # "Last 90 days (2 Apr – 30 Jun 2026)"
    filters: str  # "District: District 4 · Channel: phone", or "" for none
    as_of: dt.datetime
    k: int
    scale: float = 1.0  # type and height, for a projector (the briefing's presentation mode)

    def lines(self) -> list[str]:
        """The lines under a chart's title: period and filters; as-of and source; the k rule
        (wrapped, so that a chart half a page wide still shows it whole)."""
        first = " · ".join(part for part in (self.period, self.filters) if part)
        second = f"Data as of {self.as_of:%d %B %Y, %H:%M} · Source: CivicStat, {self.city}"
        rule = textwrap.wrap(privacy.rule_text(self.k).capitalize() + ".", RULE_WIDTH)
        return [first, second, *rule]


PRESENTATION_SCALE = 1.6  # the type of a chart in presentation mode, against the page's


def context(info: dict, filters: Filters, *, large: bool = False,
            **chosen: str | None) -> ChartContext:
    """The context of a public page's charts, from its snapshot info and filters, and any
    dimension the page chooses outside the filters (the briefing's district=...); `large`: the
    charts' labels, legends and titles in large type (presentation mode)."""
    filters = replace(filters, dimensions={**filters.dimensions, **chosen})
    period = filters.period
    last_day = period.end - dt.timedelta(days=1)
    return ChartContext(
        city=str(info["city_name"]),
        period=f"{period.label} ({period.start:%d %b %Y} – {last_day:%d %b %Y})",
        filters=filters.describe(period=False),
        as_of=pd.Timestamp(info["as_of"]).to_pydatetime(),
        k=int(info["k"]),
        scale=PRESENTATION_SCALE if large else 1.0,
    )


def file_name(title: str, ctx: ChartContext) -> str:
    """letters, digits and dashes: riverton-requests-opened-and-closed-each-week-2026-06-30"""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{ctx.city} {title}").strip("-").lower()
    return f"{stem}-{ctx.as_of:%Y-%m-%d}"


def framed(fig: go.Figure, title: str, ctx: ChartContext) -> go.Figure:
    """A copy of `fig` (built figures are cached and shared: never changed in place) with the
    title and its context lines above the plot.

    Copied through to_dict: go.Figure(fig) is not safe while another session's thread copies the
    same cached figure (plotly 7.1 then validates one trace's properties as another type's:
    "'outside' for the 'textposition' property of scatter"; 9 failed renders in 2,361 under
    load in bench/churn.py, and 1,655 of 2,400 copies in 8 threads), to_dict is."""
    out = go.Figure(fig.to_dict())
    lines = ctx.lines()
    scale = ctx.scale
    space = round((TITLE_PIXELS + LINE_PIXELS * len(lines)) * scale)
    margin = out.layout.margin
    height = round((out.layout.height or 340) * scale) + space
    out.update_layout(
        height=height,
        margin={"t": (margin.t if margin.t is not None else 30) + space},
        title={
            "text": (f"<b>{plain(title)}</b><br><span style='font-size:{round(12 * scale)}px;"
                     "color:#55595f'>" + "<br>".join(plain(line) for line in lines) + "</span>"),
            "x": 0.01, "xanchor": "left", "xref": "container",
            "y": 1 - 26 * scale / height, "yanchor": "top", "yref": "container",
            "font": {"size": round(16 * scale)},
        },
    )
    if scale != 1.0:  # ticks, bar labels, axis titles, legends and notes in the larger type,
        # each set itself (Streamlit's chart theme sets the ticks' size, over the layout's font)
        size = round((out.layout.font.size or 14) * scale)
        out.update_layout(font={"size": size}, legend={"font": {"size": size}},
                          hoverlabel={"font": {"size": size}})
        out.update_xaxes(tickfont={"size": size}, title={"font": {"size": size}})
        out.update_yaxes(tickfont={"size": size}, title={"font": {"size": size}})
        out.update_traces(textfont={"size": size})
        out.update_annotations(font={"size": size})
    return out


def image_config(title: str, ctx: ChartContext, height: int) -> dict:
    """Plotly's config: one toolbar button, Download plot as a PNG, named for the chart."""
    return {
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": file_name(title, ctx),
                                 "width": IMAGE_WIDTH, "height": height, "scale": 2},
    }


def show(fig: go.Figure, title: str, ctx: ChartContext | None) -> None:
    """Draw a public chart with its title and context, downloadable as a PNG; without a context
    (a caller that has none) the chart is drawn as before, with no toolbar."""
    if ctx is None:
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
        return
    out = framed(fig, title, ctx)
    st.plotly_chart(out, width="stretch", config=image_config(title, ctx, int(out.layout.height)))
