"""pydeck map builders: districts coloured by a metric, with escaped tooltips and a legend."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk

# Light to dark blue (ColorBrewer "Blues", 5 classes): sequential and colour-blind safe.
SEQUENTIAL = [(239, 243, 255), (189, 215, 231), (107, 174, 214), (49, 130, 189), (8, 81, 156)]
NO_DATA = (210, 210, 210)


@dataclass(frozen=True)
class MapMetric:
    column: str
    label: str
    fmt: str  # format spec for one value
    lower_is_better: bool = False


def format_value(value: object, metric: MapMetric) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "no data"
    return format(value, metric.fmt)


def class_breaks(values: pd.Series, classes: int = len(SEQUENTIAL)) -> list[float]:
    """Quantile class breaks (upper bounds of all classes but the last)."""
    clean = values.dropna()
    if clean.empty:
        return []
    breaks = sorted({float(clean.quantile(q / classes)) for q in range(1, classes)})
    return [b for b in breaks if b < float(clean.max())] or breaks[:1]


def color_for(value: object, breaks: list[float]) -> tuple[int, int, int]:
    if value is None or pd.isna(value):
        return NO_DATA
    index = sum(1 for b in breaks if float(value) > b)
    return SEQUENTIAL[min(index, len(SEQUENTIAL) - 1)]


def district_choropleth(
    districts: pd.DataFrame, metric: MapMetric, highlight: str | None = None
) -> tuple[pdk.Deck, list[tuple[tuple[int, int, int], str]]]:
    """A deck of district polygons coloured by `metric`, and its legend (colour, text) pairs.

    `districts` needs district, center_lat, center_lon, geometry_json and the metric column.
    Every text shown in a tooltip is HTML-escaped here: pydeck renders tooltips as HTML.
    """
    breaks = class_breaks(districts[metric.column])
    features = []
    for row in districts.itertuples(index=False):
        value = getattr(row, metric.column)
        color = color_for(value, breaks)
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(row.geometry_json),
                "properties": {
                    "name": html.escape(str(row.district)),
                    "value": html.escape(format_value(value, metric)),
                    "fill": [*color, 200],
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
    view = _view_for([f["geometry"] for f in features])
    deck = pdk.Deck(
        layers=[layer],
        initial_view_state=view,
        map_provider=None,  # no base-map tiles: works offline; the districts are the map
        map_style=None,
        tooltip={
            "html": "<b>{name}</b><br/>" + html.escape(metric.label) + ": {value}",
            "style": {"backgroundColor": "#1f2937", "color": "white", "fontSize": "14px"},
        },
    )
    return deck, legend(breaks, metric)


def legend(breaks: list[float], metric: MapMetric) -> list[tuple[tuple[int, int, int], str]]:
    """(colour, range text) for each class, plus 'no data'."""
    if not breaks:
        return [(NO_DATA, "no data")]
    edges = [None, *breaks, None]
    items = []
    for index, color in enumerate(SEQUENTIAL[: len(breaks) + 1]):
        low, high = edges[index], edges[index + 1]
        if low is None:
            text = f"up to {format(high, metric.fmt)}"
        elif high is None:
            text = f"over {format(low, metric.fmt)}"
        else:
            text = f"{format(low, metric.fmt)} – {format(high, metric.fmt)}"
        items.append((color, text))
    return items


def _view_for(geometries: list[dict], height_px: int = 480, width_px: int = 900) -> pdk.ViewState:
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
