"""Leak checks shared by the privacy tests (AppTest) and the public-page crawler (browser frames).

Each check reads what a page sends, as Streamlit's element protos (an AppTest element's `.proto`,
or an element decoded from a websocket frame), and names every way a count below k shows:
a bar or point drawn at its size, an axis range, a hover text or annotation ("2 requests"), a map
tooltip, a legend break, a KPI tile, a table cell. `rates_rest_on_few` adds the stricter check the
privacy scenarios use, where every rate on the page rests on fewer than k requests.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

# "<n> requests" and the like; "<n> request types" counts types, not requests.
COUNT_PHRASE = re.compile(
    r"(?<![\w.,])(\d[\d,]*)[ \t\u00a0]+(?:requests?(?![ \t]+types?\b)|open|opened|closed|records?|due)\b",
    re.IGNORECASE,
)
WITHHELD_PREFIXES = ("fewer than", "too few")
# A status against a target (the Overview's on-time bars): it tells a withheld rate's range.
STATUS_WORDS = re.compile(r"\b(?:on|off|near) target\b", re.IGNORECASE)
LEGEND_ITEM = re.compile(r"</span>([^<]*)</span>")
# Table columns that hold counts (and not rates, durations or changes).
COUNT_COLUMN = re.compile(r"request|open|closed|count|due|rows", re.IGNORECASE)
NOT_A_COUNT = re.compile(r"rate|%|day|hour|median|share|percent|change|per 1,?000", re.IGNORECASE)


def values(array) -> list:
    """A plotly array as a list: plain JSON, or plotly's typed array {dtype, bdata}."""
    if array is None:
        return []
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def is_small(value, k: int) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < k


def texts(node) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for value in node.values() for t in texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in texts(value)]
    return []


def count_phrases(text: str) -> list[int]:
    """The numbers in "<n> requests", "<n> open", ... phrases of a text."""
    return [int(n.replace(",", "")) for n in COUNT_PHRASE.findall(text.replace("<br>", " "))]


def plotly_leaks(spec: dict, k: int, *, rates_rest_on_few: bool = False) -> list[str]:
    leaks = []
    layout = spec.get("layout", {})
    for trace in spec.get("data", []):
        horizontal = trace.get("orientation") == "h"
        axis = layout.get("xaxis" if horizontal else "yaxis", {})
        drawn = values(trace.get("x" if horizontal else "y"))
        title = axis.get("title")
        title = title.get("text", "") if isinstance(title, dict) else str(title or "")
        # a rate axis, or one of days (a median: NOT_A_COUNT), is judged as a rate
        if "%" in str(axis.get("tickformat", "")) or (title and NOT_A_COUNT.search(title)):
            shown = [v for v in drawn if v is not None and not (isinstance(v, float) and np.isnan(v))]
            if rates_rest_on_few and any(v != 0 for v in shown):
                leaks.append(f"{trace.get('name')}: a rate drawn at its size {shown}")
        elif any(is_small(v, k) for v in drawn):
            leaks.append(f"{trace.get('name')}: counts below k drawn at their size {drawn}")
        for text in texts({key: trace.get(key) for key in ("text", "customdata", "hovertext")}):
            if any(is_small(n, k) for n in count_phrases(text)):
                leaks.append(f"text {text!r}")
        if rates_rest_on_few:  # a status against a target tells a withheld rate's range
            for text in texts({key: trace.get(key) for key in ("text", "customdata", "hovertext",
                                                               "x", "y")}):
                if STATUS_WORDS.search(text):
                    leaks.append(f"text {text!r}: a status of a withheld rate")
        colours = (trace.get("marker") or {}).get("color")
        if isinstance(colours, list):  # a colour per point: none for a point not drawn
            undrawn = {str(c) for v, c in zip(drawn, colours, strict=False) if v is None}
            if len(undrawn) > 1:
                leaks.append(f"{trace.get('name')}: points not drawn coloured by class {undrawn}")
    for name in ("xaxis", "yaxis"):
        axis = layout.get(name, {})
        value_range = axis.get("range") or []
        if "%" not in str(axis.get("tickformat", "")) and any(is_small(v, k) for v in value_range[1:]):
            leaks.append(f"{name} range {value_range}")
    for annotation in layout.get("annotations", []):
        if any(is_small(n, k) for n in count_phrases(annotation.get("text", ""))):
            leaks.append(f"annotation {annotation['text']!r}")
        if rates_rest_on_few and STATUS_WORDS.search(annotation.get("text", "")):
            leaks.append(f"annotation {annotation['text']!r}: a status of a withheld rate")
    return leaks


def deck_leaks(deck: dict, k: int) -> list[str]:
    leaks = []
    for layer in deck["layers"]:
        data = layer.get("data")
        rows = data["features"] if isinstance(data, dict) else data or []
        properties = [row.get("properties", row) for row in rows]
        withheld_fills, shown_fills = set(), set()
        for item in properties:
            strings = {key: v for key, v in item.items() if isinstance(v, str)}
            for key, text in strings.items():
                if text.replace(",", "").isdigit() and is_small(int(text.replace(",", "")), k):
                    leaks.append(f"{layer['id']}: tooltip {key} = {text!r}")
            if "fill" in item:
                fill = tuple(item["fill"])
                hidden = any(t.startswith(WITHHELD_PREFIXES) for t in strings.values())
                (withheld_fills if hidden else shown_fills).add(fill)
        if len(withheld_fills) > 1 or withheld_fills & shown_fills:
            leaks.append(f"{layer['id']}: a withheld figure coloured by its size {withheld_fills}")
    return leaks


def legend_leaks(body: str, k: int) -> list[str]:
    """An HTML legend (ui.legend) whose title names requests: no break below k."""
    if "legend" not in body:
        return []
    title = re.search(r'aria-label="([^"]*) legend"', body)
    if not title or not re.search(r"request|open", title.group(1), re.IGNORECASE):
        return []  # rates and days are not counts
    leaks = []
    for text in LEGEND_ITEM.findall(body):
        numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]
        if any(is_small(n, k) for n in numbers):
            leaks.append(f"legend {title.group(1)}: {text!r}")
    return leaks


def tile_leaks(label: str, value: str, k: int) -> list[str]:
    plain = value.replace(",", "")
    return [f"tile {label} = {value}"] if plain.isdigit() and is_small(int(plain), k) else []


def _number(cell) -> object:
    return cell if not isinstance(cell, str) else (
        int(cell.replace(",", "")) if cell.replace(",", "").isdigit() else None)


def _is_count(label: str) -> bool:
    return bool(COUNT_COLUMN.search(label)) and not NOT_A_COUNT.search(label)


def table_leaks(arrow_bytes: bytes, k: int) -> list[str]:
    """A table sent as Arrow IPC: no count column holds a number below k; in a table of figures
    by row (a "Figure" column naming each row, like the district briefing's), no count row does
    in any column."""
    if not arrow_bytes:
        return []
    table = pa.ipc.open_stream(io.BytesIO(arrow_bytes)).read_all()
    leaks = []
    for name in table.column_names:
        if not _is_count(name):
            continue
        for cell in table.column(name).to_pylist():
            if is_small(_number(cell), k):
                leaks.append(f"table column {name}: {cell!r}")
    if "Figure" in table.column_names:
        labels = [str(label) for label in table.column("Figure").to_pylist()]
        for name in table.column_names:
            for label, cell in zip(labels, table.column(name).to_pylist(), strict=True):
                if name != "Figure" and _is_count(label) and is_small(_number(cell), k):
                    leaks.append(f"table row {label}, column {name}: {cell!r}")
    return leaks


POINT_KEYS = {"position", "coordinates", "lat", "lon", "latitude", "longitude"}


def finer_than(value, decimals: int) -> bool:
    return isinstance(value, float) and abs(value * 10**decimals - round(value * 10**decimals)) > 1e-6


def _points(node):
    """Every number under a point-like key of a JSON value (a point's position, lat, lon)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in POINT_KEYS:
                yield from (v for v in (value if isinstance(value, list) else [value])
                            if isinstance(v, (int, float)))
            else:
                yield from _points(value)
    elif isinstance(node, list):
        for value in node:
            yield from _points(value)


def coordinate_leaks(element, decimals: int) -> list[str]:
    """A point (a map layer's positions, a table's lat/lon columns) finer than the public grid.
    Areas (district shapes, hexagons) are geometry of the grid, not of requests: not read."""
    kind = element.WhichOneof("type")
    numbers: list = []
    if kind == "deck_gl_json_chart":
        deck = json.loads(element.deck_gl_json_chart.json)
        numbers = list(_points(deck.get("layers", [])))
    elif kind in ("dataframe", "table") and getattr(element, kind).arrow_data.data:
        table = pa.ipc.open_stream(io.BytesIO(getattr(element, kind).arrow_data.data)).read_all()
        for name in table.column_names:
            if name.lower() in POINT_KEYS:
                numbers += [float(v) for v in table.column(name).to_pylist()
                            if isinstance(v, (int, float))]
    return [f"{kind}: coordinate {v}" for v in numbers if finer_than(v, decimals)]


def element_leaks(element, k: int, *, rates_rest_on_few: bool = False) -> list[str]:
    """The leaks of one Element proto (streamlit.proto.Element_pb2.Element)."""
    kind = element.WhichOneof("type")
    if kind == "plotly_chart":
        return plotly_leaks(json.loads(element.plotly_chart.spec), k,
                            rates_rest_on_few=rates_rest_on_few)
    if kind == "deck_gl_json_chart":
        return deck_leaks(json.loads(element.deck_gl_json_chart.json), k)
    if kind == "html":
        return legend_leaks(element.html.body, k)
    if kind == "metric":
        return tile_leaks(element.metric.label, element.metric.body, k)
    if kind in ("dataframe", "table"):
        return table_leaks(getattr(element, kind).arrow_data.data, k)
    return []


def elements_leaks(elements: Iterable, k: int, *, rates_rest_on_few: bool = False) -> list[str]:
    return [leak for element in elements
            for leak in element_leaks(element, k, rates_rest_on_few=rates_rest_on_few)]
