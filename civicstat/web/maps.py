"""pydeck map builders: districts coloured by a metric, with escaped tooltips and a legend.

Public maps colour what civicstat.core.privacy allows: a withheld figure (a count below k, a rate
or median on too small a basis) has no colour class (it is drawn in WITHHELD grey, its tooltip
reads "fewer than k" / "too few"), class breaks come from shown values only, and a scale of
counts has no break below k.

Every map shows the districts' names (a text layer at each district's representative point, by
its label: the `district_label` column where the frame has one). No map asks another host for
anything unless the city configured a base map ([map] style in city.toml, carried in the
snapshot's info as `map_style`): `deck` builds every map, with that style or with none.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from civicstat.core import figures, privacy
from civicstat.core.values import missing
from civicstat.web.figure_cache import cached_figure

# Light to dark blue (ColorBrewer "Blues", 5 classes): sequential and colour-blind safe.
SEQUENTIAL = [(239, 243, 255), (189, 215, 231), (107, 174, 214), (49, 130, 189), (8, 81, 156)]
NO_DATA = (210, 210, 210)
WITHHELD = (150, 150, 150)  # a figure the k rule withholds: no colour class
LEGEND_FORMATS = {"count": ",.0f", "rate": ".0%", "days": ".1f", "per_thousand": ",.1f"}
# The map is fitted to the districts at this width (a 390 px phone's column, less its margins):
# wider screens show the same view with room around it, a phone shows every district whole.
FIT_WIDTH_PX = 358
TOOLTIP_STYLE = {"backgroundColor": "#1f2937", "color": "white", "fontSize": "14px"}


class CompactDeck(pdk.Deck):
    """A Deck written as compact JSON, once. pydeck indents its JSON by two spaces, which is
    about a third of a 5,000-point map on the wire; and district maps are cached (figure_cache)
    and shown again unchanged, where serializing was the costliest step."""

    def to_json(self) -> str:
        if getattr(self, "_json", None) is None:
            self._json = json.dumps(
                self, sort_keys=True, default=default_serialize, separators=(",", ":")
            )
        return self._json


def deck(layers: list, view: pdk.ViewState, tooltip: dict, style: str | None = None) -> CompactDeck:
    """Every map's deck: with the city's base-map style URL (`style`), or no base map at all.
    With none, the browser asks no tile server for anything (the districts are the map); pydeck's
    map_style is then left at its default: given None, the frontend would fill in CARTO's style
    and fetch it from basemaps.cartocdn.com."""
    if style:
        return CompactDeck(layers=layers, initial_view_state=view, tooltip=tooltip,
                           map_provider="mapbox" if "mapbox" in style else "carto",
                           map_style=style)
    return CompactDeck(layers=layers, initial_view_state=view, tooltip=tooltip, map_provider=None)


def district_names(districts: pd.DataFrame) -> pdk.Layer | None:
    """The districts' names (district_label, else the district key) at their representative
    points (center_lat, center_lon: inside each shape), dark on a white halo; None for a frame
    without centres."""
    if districts.empty or not {"center_lat", "center_lon"} <= set(districts.columns):
        return None
    names = districts["district_label"] if "district_label" in districts else districts["district"]
    data = [
        {"center": [round(float(lon), 6), round(float(lat), 6)], "name": str(name)}
        for name, lat, lon in zip(names, districts["center_lat"], districts["center_lon"],
                                  strict=True)
        if not missing(lat) and not missing(lon)
    ]
    return pdk.Layer(
        "TextLayer", data, id="district-names", pickable=False, get_position="center",
        get_text="name", get_size=12, size_units="'pixels'", get_color=[17, 24, 39, 255],
        font_family='"Source Sans, Source Sans Pro, sans-serif"', font_weight=600,
        character_set="'auto'", font_settings={"sdf": True}, outline_width=3,
        outline_color=[255, 255, 255, 230], get_text_anchor="'middle'",
        get_alignment_baseline="'center'",
        # where names would overlap (small districts, a phone) one of them is left out; every
        # name is in its district's tooltip and the table
        extensions=[{"@@type": "CollisionFilterExtension"}], collision_enabled=True,
    )


@dataclass(frozen=True)
class MapMetric:
    column: str  # a figure of privacy.FIGURES: how it is written and what it rests on
    label: str
    lower_is_better: bool = False

    @property
    def fmt(self) -> str:
        """Format spec of a class break in the legend."""
        return LEGEND_FORMATS[privacy.FIGURES[self.column].kind]


# The figures a district map can be coloured by (the Overview, Map and district pages share them).
DISTRICT_METRICS: dict[str, MapMetric] = {
    "count_requests": MapMetric("count_requests", "Requests"),
    "requests_per_1000_residents": MapMetric(
        "requests_per_1000_residents", "Requests per 1,000 residents"
    ),
    "median_days_to_close": MapMetric(
        "median_days_to_close", "Median days to close", lower_is_better=True
    ),
    "on_time_rate": MapMetric("on_time_rate", "On-time rate"),
    "count_open_at_end": MapMetric(
        "count_open_at_end", "Open at end of period", lower_is_better=True
    ),
}


def _classes(
    figure: str, values: pd.Series, bases: pd.Series, k: int, palette: list, classes: int
) -> tuple[list[float], list[tuple[int, int, int]], list[bool]]:
    """(class breaks, fill per row, withheld per row) for a figure's values: breaks from the
    values shown only (and, for counts, none below k); a withheld value is WITHHELD grey, a
    missing one NO_DATA grey."""
    drawn = privacy.drawn(figure, values, bases, k)
    withheld = [not privacy.is_shown(figure, basis, k) for basis in bases]
    breaks = class_breaks(pd.Series(drawn, dtype=float), classes)
    if privacy.FIGURES[figure].is_count:
        breaks = privacy.count_breaks(breaks, k)
    fills = [WITHHELD if hidden else color_for(value, breaks, palette)
             for value, hidden in zip(drawn, withheld, strict=True)]
    return breaks, fills, withheld


def class_breaks(values: pd.Series, classes: int = len(SEQUENTIAL)) -> list[float]:
    """Quantile class breaks (upper bounds of all classes but the last)."""
    clean = values.dropna()
    if clean.empty:
        return []
    breaks = sorted({float(clean.quantile(q / classes)) for q in range(1, classes)})
    return [b for b in breaks if b < float(clean.max())] or breaks[:1]


def color_for(
    value: object, breaks: list[float], palette: list = SEQUENTIAL
) -> tuple[int, int, int]:
    if missing(value):
        return NO_DATA
    index = sum(1 for b in breaks if float(value) > b)
    return palette[min(index, len(palette) - 1)]


@cached_figure
def district_choropleth(
    districts: pd.DataFrame, metric: MapMetric, k: int, highlight: str | None = None,
    style: str | None = None,
) -> tuple[pdk.Deck, list[tuple[tuple[int, int, int], str]]]:
    """A deck of district polygons coloured by `metric`, with their names, and its legend
    (colour, text) pairs: every colour the map shows, the greys of withheld and no-data
    districts included.

    `districts` needs district, center_lat, center_lon, geometry_json, the metric column and its
    basis (privacy.FIGURES); district_label if it has one. Every text shown in a tooltip is
    HTML-escaped here: pydeck renders tooltips as HTML. `style`: the city's base map (`deck`).
    """
    bases = pd.Series([privacy.basis_of(metric.column, row)
                       for row in districts.itertuples(index=False)], dtype=object)
    breaks, fills, withheld = _classes(
        metric.column, districts[metric.column], bases, k, SEQUENTIAL, len(SEQUENTIAL)
    )
    features = []
    for row, fill in zip(districts.itertuples(index=False), fills, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(row.geometry_json),
                "properties": {
                    "name": html.escape(str(getattr(row, "district_label", row.district))),
                    "value": html.escape(figures.cell(metric.column, row, k)),
                    "fill": [*fill, 200],
                    "line": [0, 0, 0, 255] if row.district == highlight else [60, 60, 60, 160],
                    "width": 4 if row.district == highlight else 1,
                },
            }
        )
    layer = pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id="districts",
        pickable=True,
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color="properties.line",
        get_line_width="properties.width",
        line_width_min_pixels=1,
        line_width_scale=40,
    )
    names = district_names(districts)
    chart = deck(
        [layer, *([names] if names else [])],
        _view_for([f["geometry"] for f in features]),
        {"html": "<b>{name}</b><br/>" + html.escape(metric.label) + ": {value}",
         "style": TOOLTIP_STYLE},
        style,
    )
    items = legend(breaks, metric.fmt, SEQUENTIAL)
    if any(withheld):
        items.append((WITHHELD, privacy.withheld_text(metric.column, k)))
    if any(fill == NO_DATA for fill in fills) or not items:
        items.append((NO_DATA, "no data"))
    return chart, items


def legend(
    breaks: list[float], fmt: str, palette: list = SEQUENTIAL
) -> list[tuple[tuple[int, int, int], str]]:
    """(colour, range text) for each class (none without breaks)."""
    if not breaks:
        return []
    edges = [None, *breaks, None]
    fmt = _distinct_format(breaks, fmt)
    items = []
    for index, color in enumerate(palette[: len(breaks) + 1]):
        low, high = edges[index], edges[index + 1]
        if low is None:
            text = f"up to {format(high, fmt)}"
        elif high is None:
            text = f"over {format(low, fmt)}"
        else:
            text = f"{format(low, fmt)} – {format(high, fmt)}"
        items.append((color, text))
    return items


def _distinct_format(breaks: list[float], fmt: str) -> str:
    """`fmt` with up to two more decimals, until no two class breaks read the same."""
    match = re.search(r"\.(\d+)([f%])$", fmt)
    for extra in range(3 if match else 1):
        candidate = fmt if not match else (
            f"{fmt[: match.start()]}.{int(match.group(1)) + extra}{match.group(2)}"
        )
        if len({format(b, candidate) for b in breaks}) == len(breaks):
            return candidate
    return candidate


def _view_for(
    geometries: list[dict], height_px: int = 480, width_px: int = FIT_WIDTH_PX
) -> pdk.ViewState:
    """A view that fits every geometry into a map of about height_px × width_px."""
    points = [point for geometry in geometries for point in _coordinates(geometry)]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    mid_lat = (max(lats) + min(lats)) / 2
    # deck.gl: the world is 512 × 2^zoom pixels wide; latitude stretches by 1/cos(lat).
    lat_span = max(max(lats) - min(lats), 1e-4) / math.cos(math.radians(mid_lat))
    lon_span = max(max(lons) - min(lons), 1e-4)
    zoom = min(
        math.log2(0.85 * height_px * 360 / (512 * lat_span)),
        math.log2(0.85 * width_px * 360 / (512 * lon_span)),
    )
    return pdk.ViewState(
        latitude=mid_lat, longitude=(max(lons) + min(lons)) / 2,
        zoom=max(1.0, min(16.0, zoom)), pitch=0,
    )


def _coordinates(geometry: dict):
    """Every (lon, lat) pair of a GeoJSON Polygon or MultiPolygon."""
    rings = geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        rings = [ring for polygon in rings for ring in polygon]
    for ring in rings:
        yield from ring


# --- request density: hexagons binned on the server ---------------------------------------------

# ColorBrewer "YlOrRd" (5 classes): sequential, colour-blind safe, distinct from the district blues.
DENSITY = [(255, 255, 178), (254, 204, 92), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
KM_PER_DEGREE_LAT, KM_PER_DEGREE_LON_AT_EQUATOR = 110.574, 111.320


def hexagon(center_lat: float, center_lon: float, ref_lat: float, cell_km: float) -> list:
    """The six corners (lon, lat) of a pointy-top hexagon of circumradius cell_km, on the same
    local flat projection as queries/public/density_cells.sql."""
    km_per_lon = KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(ref_lat))
    return [
        [
            round(center_lon + cell_km * math.cos(math.radians(angle)) / km_per_lon, 6),
            round(center_lat + cell_km * math.sin(math.radians(angle)) / KM_PER_DEGREE_LAT, 6),
        ]
        for angle in (30, 90, 150, 210, 270, 330)
    ]


def density_hexagons(
    cells: pd.DataFrame,
    districts: pd.DataFrame,
    cell_km: float,
    k: int,
    focus: str | None = None,
    style: str | None = None,
) -> tuple[pdk.Deck, list[tuple[tuple[int, int, int], str]]]:
    """Hexagons coloured by their number of requests over the district outlines and names, and
    a legend.

    `cells` comes from density_cells.sql (at most 50,000 rows: the browser never gets points).
    A hexagon of fewer than k requests is WITHHELD grey (no colour class); tooltips give the
    count and the median days to close as privacy allows, HTML-escaped. With `focus`, the view
    fits that district, which is drawn with a heavy outline.
    """
    counts = cells["count_requests"]
    breaks, fills, withheld = _classes("count_requests", counts, counts, k, DENSITY, len(DENSITY))
    data = [
        {
            "polygon": hexagon(row.center_lat, row.center_lon, row.ref_lat, cell_km),
            "fill": [*fill, 190],
            "requests": html.escape(figures.cell("count_requests", row, k)),
            "median": html.escape(figures.cell("median_days_to_close", row, k)),
        }
        for row, fill in zip(cells.itertuples(index=False), fills, strict=True)
    ]
    hexagons = pdk.Layer(
        "PolygonLayer", data, id="density", pickable=True, stroked=False, filled=True,
        get_polygon="polygon", get_fill_color="fill",
    )
    outlines, geometries, fit = district_outlines(districts, focus)
    names = district_names(districts)
    chart = deck(
        [hexagons, outlines, *([names] if names else [])],
        _view_for(fit or geometries or [_cells_extent(data)]),
        {"html": "<b>{requests}</b> requests<br/>Median days to close: {median}",
         "style": TOOLTIP_STYLE},
        style,
    )
    items = legend(breaks, LEGEND_FORMATS["count"], DENSITY)
    if any(withheld):
        items.append((WITHHELD, privacy.fewer_than(k)))
    return chart, items


def district_outlines(
    districts: pd.DataFrame, focus: str | None = None
) -> tuple[pdk.Layer, list[dict], list[dict]]:
    """District boundaries as an unfilled layer to draw over (or under) other layers, with every
    geometry and the focus district's geometry (to fit the view). Districts without a shape (a
    city with no boundary file names its districts only) are left out."""
    districts = districts[districts["geometry_json"].notna()]
    geometries = [json.loads(g) for g in districts["geometry_json"]]
    outline = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "line": [0, 0, 0, 255] if name == focus else [80, 80, 80, 200],
                    "width": 150 if name == focus else 40,  # metres
                },
            }
            for name, geometry in zip(districts["district"], geometries, strict=True)
        ],
    }
    layer = pdk.Layer(
        "GeoJsonLayer", outline, id="district-outlines", pickable=False, stroked=True,
        filled=False, get_line_color="properties.line", get_line_width="properties.width",
        # not line_width_units="pixels": Streamlit's deck.gl then paints the whole canvas grey
        line_width_min_pixels=1, line_width_max_pixels=5,
    )
    fit = [g for name, g in zip(districts["district"], geometries, strict=True) if name == focus]
    return layer, geometries, fit


def _cells_extent(data: list[dict]) -> dict:
    """A Polygon geometry around every hexagon (for a city without district boundaries)."""
    points = [p for cell in data for p in cell["polygon"]] or [[0.0, 0.0]]
    return {"type": "Polygon", "coordinates": [points]}


# --- staff: requests as points ------------------------------------------------------------------

MAX_POINTS = 50_000
POINT_CLASSES = (  # (key, colour, legend text): Okabe-Ito, distinguishable in colour blindness
    ("overdue", (213, 94, 0), "Open and overdue"),
    ("open", (230, 159, 0), "Open, not yet due"),
    ("closed", (0, 114, 178), "Closed"),
)


def request_points(
    requests: pd.DataFrame, districts: pd.DataFrame, style: str | None = None
) -> tuple[pdk.Deck, list[tuple[tuple[int, int, int], str]]]:
    """Requests (at most MAX_POINTS, those with coordinates) as dots over the district outlines,
    coloured closed / open / overdue, and the legend.

    `requests` needs request_id, lat, lon, status, is_overdue, request_type and address. Every
    text in a tooltip is HTML-escaped here: pydeck renders tooltips as HTML, and addresses come
    from the source (the description is never put on the map).
    """
    classes = {key: (rank, colour, text) for rank, (key, colour, text) in enumerate(POINT_CLASSES)}
    located = requests[requests["lat"].notna() & requests["lon"].notna()].head(MAX_POINTS)
    rows = sorted(((classes[_point_class(row)], row) for row in located.itertuples(index=False)),
                  key=lambda pair: -pair[0][0])  # closed first, overdue last: drawn on top
    data = [
        {
            "position": [round(float(row.lon), 6), round(float(row.lat), 6)],  # ~0.1 m
            "fill": [*colour, 210],
            "id": html.escape(str(row.request_id)),
            "type": html.escape(str(row.request_type or "")),
            "status": html.escape(text),
            "address": html.escape(str(row.address or "")),
        }
        for (_, colour, text), row in rows
    ]
    points = pdk.Layer(
        "ScatterplotLayer", data, id="requests", pickable=True, stroked=True, filled=True,
        get_position="position", get_fill_color="fill", get_line_color=[255, 255, 255, 200],
        get_radius=40, radius_min_pixels=3, radius_max_pixels=10, line_width_min_pixels=0.5,
    )
    layers, geometries = [points], []
    if not districts.empty:
        outlines, geometries, _ = district_outlines(districts)
        layers.insert(0, outlines)
        names = district_names(districts)
        layers += [names] if names else []
    extent = [{"type": "Polygon", "coordinates": [[p["position"] for p in data]]}] if data else []
    chart = deck(
        layers,
        _view_for(
            extent if 0 < len(data) < 50 else geometries or extent
            or [{"type": "Polygon", "coordinates": [[[0.0, 0.0]]]}],
            height_px=560, width_px=1100,
        ),
        {"html": "<b>{id}</b> · {type}<br/>{address}<br/>{status}", "style": TOOLTIP_STYLE},
        style,
    )
    return chart, [(colour, text) for _, colour, text in POINT_CLASSES]


def _point_class(row) -> str:
    if row.status == "open":
        overdue = row.is_overdue
        return "overdue" if overdue is not None and not pd.isna(overdue) and overdue else "open"
    return "closed"
