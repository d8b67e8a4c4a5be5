"""Streamlit building blocks pages share: filters bound to the URL, KPI tiles, legends, tables,
charts and maps of public figures. They take frames (the pages fetch them through the data layer)
and show each figure as civicstat.core.privacy allows (through figures and the chart and map
builders): nothing here runs a query or restates the k rule."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.errors import StreamlitAPIException

from civicstat.core import figures, privacy
from civicstat.core.city import DistrictLabels
from civicstat.core.filters import (
    DEFAULT_PERIOD,
    DIMENSION_LABELS,
    DIMENSIONS,
    PERIOD_LABELS,
    Filters,
    natural_key,
    resolve_period,
)
from civicstat.web.figure_cache import cached_figure

if TYPE_CHECKING:
    from civicstat.web.data import PublicStart


T = TypeVar("T")


def as_datetime(value: object) -> dt.datetime:
    return pd.Timestamp(value).to_pydatetime()


# --- filters that go with the visitor from page to page -------------------------------------------
# The filter bar's values (and the district briefing's district) are the visitor's, not one
# page's: opening another page in the same session (the menu, a page link) starts it with them, and
# they show in its URL, so the new page's link reproduces the view. A page's own controls
# (map_metric, hex, grain, compare, by, present) stay on their page. A URL that names a filter
# wins over the carried value: a shared link shows what it says.
CARRIED_FILTERS = ("period", "from", "to", *DIMENSIONS)
_CARRIED_KEY = "_civicstat_carried_filters"  # {"page": url path, "values": {key: value}}
_ARRIVED_KEY = "_civicstat_arrived"  # True during the first run on a page after another page


def arrive(url_path: str) -> None:
    """app.py, every run, before the page runs: note which page this is, and whether the visitor
    has just come to it from another page (then the carried filters seed its pickers)."""
    carried = st.session_state.setdefault(_CARRIED_KEY, {"page": url_path, "values": {}})
    st.session_state[_ARRIVED_KEY] = carried["page"] != url_path
    carried["page"] = url_path


def carry_in(key: str, options: Sequence | None = None, url_value: Callable = str) -> None:
    """Before the picker `key` is made: on arrival from another page, start it with the carried
    value, unless the URL names one or the value is not among `options`. Streamlit starts a bound
    picker from a value set in code but leaves it out of the URL on its first run, so the value
    goes in the URL too (as `url_value` writes it, as the picker would)."""
    if key not in CARRIED_FILTERS or not st.session_state.get(_ARRIVED_KEY):
        return
    value = st.session_state[_CARRIED_KEY]["values"].get(key)
    if value is None or key in st.query_params or (options is not None and value not in options):
        return
    st.session_state[key] = value
    with contextlib.suppress(StreamlitAPIException):  # a parameter still bound: the picker's own
        st.query_params[key] = url_value(value)


def carry_out(key: str, value: object) -> None:
    """After the picker `key` is made: its value goes with the visitor to the next page."""
    if key in CARRIED_FILTERS and _CARRIED_KEY in st.session_state:
        st.session_state[_CARRIED_KEY]["values"][key] = value


# On a narrow screen the sidebar lies over the page. Streamlit closes it after a page is chosen
# in its menu only when the browser says it is a phone (its user agent), so a narrow window, a
# tablet or a phone asking for the desktop site kept the menu open over the page it had just
# opened. This closes it there too, after a menu link is followed below Streamlit's 768 px
# breakpoint. An inline script: deploy/nginx/snippets/civicstat-headers.conf allows it by its
# hash (tests/test_deploy.py checks that the hash is this script's).
CLOSE_SIDEBAR_SCRIPT = """(() => {
  if (window.civicstatClosesSidebar) return;
  window.civicstatClosesSidebar = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest('[data-testid="stSidebarNav"] a');
    if (!link || !window.matchMedia("(max-width: 767.98px)").matches) return;
    setTimeout(() => {
      const sidebar = document.querySelector('[data-testid="stSidebar"]');
      if (sidebar && sidebar.getAttribute("data-collapsed") === "false") {
        document.querySelector('[data-testid="stSidebarCollapseButton"] button')?.click();
      }
    }, 0);
  }, true);
})();"""


def close_sidebar_after_navigation() -> None:
    """app.py, every run: the sidebar closes after a menu link on a narrow screen (see
    CLOSE_SIDEBAR_SCRIPT). The script is ours, constant, and holds nothing from the data."""
    st.sidebar.html(f"<script>{CLOSE_SIDEBAR_SCRIPT}</script>", unsafe_allow_javascript=True)


def sidebar_filters(
    info: dict, options: pd.DataFrame, dimensions: tuple[str, ...], *, period: bool = True
) -> Filters:
    """Period and dimension pickers in the sidebar, each bound to a URL query parameter and
    carried to the next page (carry_in, carry_out).
    With period=False (a page about now, like the backlog) there is no period picker."""
    as_of = as_datetime(info["as_of"])
    if period:
        carry_in("period", list(PERIOD_LABELS), PERIOD_LABELS.get)
    with st.sidebar:
        st.header("Filters")
        period_key = DEFAULT_PERIOD if not period else st.selectbox(
            "Period",
            list(PERIOD_LABELS),
            index=list(PERIOD_LABELS).index(DEFAULT_PERIOD),
            format_func=PERIOD_LABELS.get,
            key="period",
            bind="query-params",
        )
        if period:
            carry_out("period", period_key)
        custom = None
        if period_key == "custom":
            for key in ("from", "to"):
                carried = st.session_state.get(_CARRIED_KEY, {}).get("values", {}).get(key)
                carry_in(key, None if isinstance(carried, dt.date) and carried <= as_of.date()
                         else (), dt.date.isoformat)
            first = st.date_input(
                "From", as_of.date() - dt.timedelta(days=29), max_value=as_of.date(),
                key="from", bind="query-params",
            )
            last = st.date_input(
                "To", as_of.date(), max_value=as_of.date(), key="to", bind="query-params"
            )
            carry_out("from", first)
            carry_out("to", last)
            custom = (first, last)
        chosen = {}
        choices = _choices(options)  # once per run, not once per picker
        labels = DistrictLabels.from_info(info)
        for dimension in dimensions:
            values = options_for(options, dimension, chosen.get("department"), choices)
            if dimension == "district":  # people see its label, the URL keeps its key
                chosen[dimension] = keyed_choice(
                    DIMENSION_LABELS[dimension], values, None, key=dimension,
                    format_func=labels.label, placeholder="All",
                )
                continue
            carry_in(dimension, values)
            chosen[dimension] = st.selectbox(
                DIMENSION_LABELS[dimension],
                values,
                index=None,
                placeholder="All",
                key=dimension,
                bind="query-params",
            )
            carry_out(dimension, chosen[dimension])
    period = resolve_period(period_key, as_of, int(info["fiscal_year_start_month"]), custom)
    return Filters(period=period, as_of=as_of, dimensions=chosen, district_labels=labels)


def options_for(
    options: pd.DataFrame, dimension: str, department: str | None, choices: dict | None = None
) -> list[str]:
    """A dimension's values; categories and request types narrowed to the chosen department.
    `choices`: _choices(options), when the caller already has it."""
    by_department = (choices if choices is not None else _choices(options)).get(dimension, {})
    if department and dimension in ("category", "request_type") and "department" in options:
        return list(by_department.get(department, []))
    return list(by_department.get(None, []))


@cached_figure
def _choices(options: pd.DataFrame) -> dict[str, dict[str | None, list[str]]]:
    """{dimension: {department or None (all): values in natural order ("District 2" before
    "District 10", core.filters.natural_key)}} from filter_options.sql rows (worked out once per
    distinct options table, not on every script run)."""
    def ordered(values: pd.Series) -> list[str]:
        return sorted(dict.fromkeys(values.tolist()), key=natural_key)

    choices: dict[str, dict[str | None, list[str]]] = {}
    for dimension, rows in options.groupby("dimension", sort=False):
        values = {None: ordered(rows["value"])}
        if "department" in rows:
            for department, of_department in rows.groupby("department", sort=False):
                values[department] = ordered(of_department["value"])
        choices[dimension] = values
    return choices


KPI_TILES = (  # (label, figure, delta colour): the Overview's four headline figures
    ("Requests received", "count_requests", "off"),
    ("Median days to close", "median_days_to_close", "inverse"),
    ("On-time rate", "on_time_rate", "normal"),
    ("Open at end of period", "count_open_at_end", "inverse"),
)


def kpi_tiles(current: pd.Series, previous: pd.Series, period_days: int, k: int) -> None:
    """The four headline figures (overview_kpis.sql rows) with their change against the previous
    period: each shown or withheld on its own basis; no change unless both periods' are shown."""
    columns = st.columns(len(KPI_TILES))
    for column, (label, name, colour) in zip(columns, KPI_TILES, strict=True):
        column.metric(
            label,
            figures.cell(name, current, k),
            delta=figures.figure_change(
                name, current[name], previous[name], privacy.basis_of(name, current),
                privacy.basis_of(name, previous), k,
            ),
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


def url_choice(
    label: str, options: Sequence[T], default: T, *, key: str,
    widget: Callable[..., object] = st.segmented_control, **kwargs,
) -> T:
    """A one-of-`options` control (st.segmented_control, or st.selectbox / st.radio through
    `widget`) bound to the URL parameter `key`; returns one of `options`, or `default`.
    A URL value or widget state that is not one of them (empty, unknown, repeated, hostile, or a
    deselection a required control should not allow) falls back to `default`, silently, and the
    page renders. Every bound single-choice control of the pages goes through here."""
    options = list(options)
    carry_in(key, options)  # a carried filter (the district briefing's district)
    if widget is st.segmented_control:
        kwargs.setdefault("required", default is not None)
        kwargs["default"] = default
    else:
        kwargs["index"] = None if default is None else options.index(default)
    value = widget(label, options, key=key, bind="query-params", **kwargs)
    value = value if value in options else default
    carry_out(key, value)
    return value  # type: ignore[return-value]


def keyed_choice(
    label: str, options: Sequence[str], default: str | None, *, key: str,
    format_func: Callable[[str], str], **kwargs,
) -> str | None:
    """A selectbox of `options` showing each as `format_func` writes it, whose URL parameter
    `key` holds the option itself (a district's key, "7", while people read "Council District
    7"): a link stays the same when a label changes. Streamlit's own binding would put the
    text shown in the URL, so this one keeps the URL itself. A URL value that is not an option
    falls back to `default`, as url_choice does; the value is carried to the next page."""
    options = list(options)
    carry_in(key, options)
    url = st.query_params.get(key)
    if key not in st.session_state:  # the first run with this picker: the URL says
        st.session_state[key] = url if url in options else default
    elif st.session_state[key] not in options:
        st.session_state[key] = default
    value = st.selectbox(  # index: clearable only when there is no default (the state decides)
        label, options, index=None if default is None else 0, key=key, format_func=format_func,
        **kwargs,
    )
    value = value if value in options else default
    if value is None or value == default:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
    carry_out(key, value)
    return value


def district_metric_picker(districts: pd.DataFrame, default: str):
    """The "Colour districts by" control (bound to the URL); returns the chosen MapMetric.
    Requests per 1,000 residents is offered only when the boundaries carry a population."""
    from civicstat.web import maps

    metrics = dict(maps.DISTRICT_METRICS)
    if districts["population"].isna().all():
        metrics.pop("requests_per_1000_residents")
    key = url_choice(
        "Colour districts by", list(metrics), default if default in metrics else next(iter(metrics)),
        format_func=lambda name: metrics[name].label, key="map_metric",
    )
    return metrics[key]


def show_data(frame: pd.DataFrame, label: str = "Show the data") -> None:
    """The numbers behind a chart, in a collapsed table (for screen readers and checking)."""
    with st.expander(label):
        st.dataframe(frame, hide_index=True, width="stretch")


# --- public pages -------------------------------------------------------------------------------

PUBLIC_DIMENSIONS = ("department", "category", "request_type", "district", "channel")
# ":" and "@" too: Streamlit's Markdown turns a bare URL (http://..., www....) or e-mail address
# into a link; an escaped "\:" or "\@" is shown as the character and links nothing.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@])")


def md(text: object) -> str:
    """Text safe to put inside st.markdown / st.caption / st.header and the like: Markdown and
    HTML characters escaped, and no bare URL made a link. Every text from the data shown through
    a Markdown element passes through here."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# Streamlit draws captions grey at opacity 0.6 (under 3:1 on white) and their links paler: below
# WCAG AA's 4.5:1 for small text. Darker greys and blues keep the look and pass.
# Sections are h2 under the page's h1 (headings in order, for screen readers), drawn at the size
# Streamlit gives h3; a district brief's sub-sections (h3) a step smaller.
READABLE_STYLE = """<style>
[data-testid="stCaptionContainer"] {opacity: 1;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {color: #55595f;}
[data-testid="stCaptionContainer"] a, [data-testid="stMarkdownContainer"] a {color: #0b5cad;}
[data-testid="stMain"] h2 {font-size: 1.75rem;}
[data-testid="stMain"] h3 {font-size: 1.375rem;}
[data-testid="stMetric"] [data-testid="stMarkdownContainer"],
[data-testid="stMetric"] [data-testid="stMarkdownContainer"] p {
  white-space: normal; overflow-wrap: break-word; text-overflow: clip;}
@media (max-width: 640px) {
  [data-testid="stButtonGroup"] > div:has(> button) {flex-wrap: wrap; gap: 0.375rem;}
  [data-testid="stButtonGroup"] > div:has(> button) > button {border-radius: 0.5rem; margin: 0;}
  [data-testid="stButtonGroup"] > div:has(> button) > button[aria-checked="false"] {
    border-color: rgba(47, 45, 43, 0.2) !important;}
}
</style>"""
# (KPI figures wrap rather than end in "…" ("fewer than 10" in a narrow tile); on a phone a
# segmented control's buttons wrap onto whole, bordered buttons instead of running off screen.)


NO_DISTRICT_SHAPES = ("No district map: this city has no district boundary file, so its districts "
                      "are the names its export gives and have no shapes to draw. The table lists "
                      "them.")
NO_REQUESTS_YET = ("No requests loaded yet: this city's figures will show here once an export "
                   "with usable records is loaded.")


def public_page(
    title: str, start: PublicStart, dimensions: tuple[str, ...] = PUBLIC_DIMENSIONS,
    lede: str | None = None, *, filters: bool = True,
) -> tuple[dict, Filters]:
    """Start a public page from data.public_start(): the snapshot's info (or a plain message if
    nothing is published), the title ("{city}" in it becomes the city's name), the sidebar
    filters bound to the URL, and the as-of line. Returns (info, filters); with filters=False
    (a page about one request) no filters are drawn and the filters returned are None."""
    if start.missing is not None:
        st.error(f"No published data yet. {start.missing}")
        st.stop()
    info = start.info
    st.html(READABLE_STYLE)
    st.title(title.format(city=info["city_name"]))
    if lede:
        st.markdown(lede)
    if not info["count_requests"] or pd.isna(info["as_of"]):
        st.info(NO_REQUESTS_YET)
        st.stop()
    chosen = sidebar_filters(info, start.options, dimensions) if filters else None
    as_of = pd.Timestamp(info["as_of"])
    st.caption(
        f"Data as of **{as_of:%A %d %B %Y, %H:%M}** ({md(info['timezone'])})."
        + (f" Showing {md(chosen.describe())}." if chosen else "")
    )
    if info.get("data_note"):  # core/asof.py: a late as-of, sources without closures
        st.caption(md(info["data_note"]))
    return info, chosen  # type: ignore[return-value]


def data_table(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    k: int,
    *,
    expander: str | None = "Show the data",
) -> None:
    """A table of figures for people (each shown or withheld on its own basis; see
    figures.display_table), in a collapsed "show the data" expander unless `expander` is None."""
    table = _table_for_people(frame, columns, k)
    if expander is None:
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        show_data(table, expander)


@cached_figure
def _table_for_people(frame: pd.DataFrame, columns: dict[str, tuple[str, str]], k: int) -> pa.Table:
    """figures.display_table as an Arrow table, which st.dataframe sends without converting."""
    return pa.Table.from_pandas(figures.display_table(frame, columns, k), preserve_index=False)


def suppression_note(k: int) -> None:
    st.caption(
        f"To protect privacy, {privacy.rule_text(k)} (and are not drawn). "
        "[What each figure rests on](/about)"
    )


def presentation_style() -> None:
    """Large type for a projector: bigger figures, text, tables and map legends (the charts'
    type: chart_images.context(large=True)), no sidebar, and the page's head kept short so the
    KPI tiles fit on the first screen of a 1366×768 projector (tests/test_browser_briefing.py)."""
    st.html(
        """<style>
        section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
        [data-testid="stMainBlockContainer"] {padding-top: 4rem;}
        [data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] li {font-size: 1.6rem;}
        [data-testid="stMain"] [data-testid="stCaptionContainer"] p {font-size: 1.15rem;}
        [data-testid="stMetric"] {padding: 0.25rem 0.75rem;}
        [data-testid="stMetric"] > div {padding: 0.5rem;}
        [data-testid="stMetricValue"] > div {font-size: 3.2rem; line-height: 1.15;}
        [data-testid="stMetricLabel"] p {font-size: 1.35rem;}
        [data-testid="stMetricDelta"] div {font-size: 1.2rem;}
        [data-testid="stTable"] th, [data-testid="stTable"] td {font-size: 1.5rem;}
        [role="group"][aria-label$=" legend"] {font-size: 1.4rem !important;}
        [data-testid="stMain"] h1 {position: absolute; width: 1px; height: 1px; overflow: hidden;
            clip-path: inset(50%); white-space: nowrap;}  /* the district's title says it */
        h2, h3 {font-size: 2.2rem !important; padding: 0.5rem 0 0.25rem !important;}
        </style>"""
    )


BREAKDOWN_COLUMNS = {  # breakdown.sql's figures, as a people-readable table
    "count_requests": ("Requests", "count"),
    "count_requests_previous": ("Previous period", "count"),
    "on_time_rate": ("On-time rate", "rate"),
    "median_days_to_close": ("Median days to close", "days"),
    "count_open_at_end": ("Open at end of period", "count"),
}


def _breakdown_hover(frame: pd.DataFrame, k: int) -> list[str]:
    return [
        f"<b>{html.escape(str(row.group_value))}</b><br>"
        f"{figures.cell('count_requests', row, k)} requests<br>"
        f"on time: {figures.cell('on_time_rate', row, k)}<br>"
        f"median days to close: {figures.cell('median_days_to_close', row, k)}"
        for row in frame.itertuples(index=False)
    ]


def _bars(frame: pd.DataFrame, figure: str, k: int) -> tuple[list, list[str]]:
    """(bar lengths as privacy.drawn gives them, value labels) of one figure of the rows."""
    rows = list(frame.itertuples(index=False))
    return (
        privacy.drawn(figure, frame[figure], [privacy.basis_of(figure, r) for r in rows], k),
        [figures.cell(figure, row, k) for row in rows],
    )


def top_request_types(types: pd.DataFrame, k: int, limit: int = 10, image=None) -> None:
    """The most requested types (breakdown.sql by request_type), a bar chart and its table;
    `image` (chart_images.ChartContext) makes the chart a titled, downloadable PNG."""
    from civicstat.web import chart_images, charts

    top = types.head(limit)
    if top.empty or top["count_requests"].sum() == 0:
        st.info("No requests match these filters in this period.")
        return
    lengths, labels = _bars(top, "count_requests", k)
    chart_images.show(
        charts.ranked_bars(
            [str(v) for v in top["group_value"]], lengths, _breakdown_hover(top, k),
            x_title="Requests in the period", text=labels,
        ),
        f"The {len(top)} most requested types", image,
    )
    data_table(top, {"group_value": ("Request type", "text"), **BREAKDOWN_COLUMNS}, k)


def bullets(lines: list[str], columns: int = 1) -> None:
    """Plain-text lines as a bulleted list (Markdown-escaped), split over `columns` columns."""
    if not lines:
        return
    per_column = -(-len(lines) // columns)
    for column, start in zip(st.columns(columns), range(0, len(lines), per_column), strict=False):
        column.markdown("\n".join(f"- {md(line)}" for line in lines[start:start + per_column]))


DISTRICT_COLUMNS = {  # district_summary.sql's figures (data.with_labels), as a people-readable table
    "district_label": ("District", "text"),
    "population": ("Population", "text"),
    "count_requests": ("Requests", "count"),
    "requests_per_1000_residents": ("Requests per 1,000 residents", "per_thousand"),
    "median_days_to_close": ("Median days to close", "days"),
    "on_time_rate": ("On-time rate", "rate"),
    "count_open_at_end": ("Open at end of period", "count"),
}


def district_map(
    districts: pd.DataFrame, filters: Filters, k: int, *, default_metric: str, height: int,
    key: str | None = None,
) -> None:
    """The districts (data.district_summary: every district; a district filter only highlights
    its own) coloured by a metric the visitor picks, with the legend and the table; a note
    instead when the city has no districts."""
    from civicstat.web import maps

    if districts.empty:
        st.info("This city has no district boundaries configured.")
        return
    if districts["geometry_json"].isna().all():
        st.info(NO_DISTRICT_SHAPES)
        data_table(districts, DISTRICT_COLUMNS, k, expander=None)
        return
    from civicstat.web import data

    metric = district_metric_picker(districts, default=default_metric)
    deck, legend_items = maps.district_choropleth(
        districts, metric, k, highlight=filters.dimensions.get("district"),
        style=data.map_style(),
    )
    st.pydeck_chart(deck, height=height, width="stretch", key=key)
    legend(legend_items, metric.label)
    data_table(districts, DISTRICT_COLUMNS, k)


def hexagon_table(cells: pd.DataFrame, k: int) -> None:
    """density_cells.sql's hexagons as a table (busiest first), behind a density map."""
    data_table(
        cells.round({"center_lat": 4, "center_lon": 4}),
        {"center_lat": ("Centre latitude", "text"), "center_lon": ("Centre longitude", "text"),
         "count_requests": ("Requests", "count"),
         "median_days_to_close": ("Median days to close", "days")},
        k, expander="Show the data (busiest hexagons first)",
    )


def volume_chart(series: dict[str, pd.DataFrame], grain: str, k: int, image=None) -> None:
    """Requests per week or month with the same weeks a year earlier (volume_over_time.sql per
    series), as a line chart and one table. `image`: as for top_request_types."""
    from civicstat.web import chart_images, charts

    traces = []
    for name, frame in series.items():
        hover = [
            f"<b>{html.escape(name)}</b>, {grain} of {row.bucket_start:%d %b %Y}<br>"
            f"{figures.cell('count_requests', row, k)} requests "
            f"(a year earlier: {figures.cell('count_requests_last_year', row, k)})"
            + ("" if row.count_days_in_period >= (7 if grain == "week" else 28)
               else f"<br>{row.count_days_in_period} days in the period")
            for row in frame.itertuples(index=False)
        ]
        traces.append((name, frame, hover))
    chart_images.show(
        charts.volume_with_last_year(traces, grain, k),
        f"Requests per {grain}, with the same {grain}s a year earlier", image,
    )
    st.caption(
        "Solid lines: this period. Dotted lines: the same "
        + ("weeks (52 weeks earlier)" if grain == "week" else "months")
        + f" a year before. Hollow markers: a {grain} only partly inside the period (the year "
        "before counts the same days)."
    )
    table = pd.concat(
        [frame.assign(series=name) for name, frame in series.items()], ignore_index=True
    )
    data_table(
        table,
        {"series": ("Series", "text"), "bucket_start": (f"{grain.title()} starting", "date"),
         "count_requests": ("Requests", "count"),
         "count_requests_last_year": ("A year earlier", "count"),
         "count_days_in_period": ("Days in period", "text")},
        k,
    )
