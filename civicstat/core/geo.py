"""Boundary layers: read them, check and reproject their CRS, and assign points to areas.

A boundary file is read with geopandas and brought to EPSG:4326 (lon/lat). Its CRS comes from
the file, or from city.toml / `--crs` when the file declares none. A GeoJSON without a `crs`
member is lon/lat by the standard; when its coordinates are clearly not lon/lat (State Plane feet,
Web Mercator metres...) reading it fails with an InputError that says how to pass `--crs`.

Point-in-polygon is vectorised: points are sorted by longitude once per batch, and each polygon
tests only the points inside its bounding box with shapely's prepared `intersects_xy` (a point
on an edge belongs to the first polygon that has it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from civicstat.core.city import City
from civicstat.core.errors import InputError

WGS84 = "EPSG:4326"
GEOJSON_SUFFIXES = (".geojson", ".json")
# A latitude or longitude this close to 0 is a missing value written as 0, not a place.
PLACEHOLDER_EPSILON = 1e-9
# More than this share of a batch's coordinates outside ±90 / ±180: they are not degrees at all
# (State Plane feet, Web Mercator metres), not a few bad rows.
NOT_DEGREES_SHARE = 0.5
_AREA_PREFIX = re.compile(r"^(council\s+district|district|ward|cd|precinct)\s*(no\.?|#)?\s*")


def parse_crs(value: str | int) -> CRS:
    """A CRS from 'EPSG:2249', '2249' or any pyproj spelling; InputError when unknown."""
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise InputError(f"unknown coordinate system {value!r} (use e.g. EPSG:2249)") from exc


def _declares_crs(path: Path, frame: gpd.GeoDataFrame) -> bool:
    """Whether the file itself says which CRS it is in.

    GDAL reports EPSG:4326 for every GeoJSON (the standard's default), so for GeoJSON only an
    explicit top-level `crs` member counts as a declaration.
    """
    if frame.crs is None:
        return False
    if path.suffix.lower() not in GEOJSON_SUFFIXES:
        return True
    try:
        with path.open(encoding="utf-8") as fh:
            return "crs" in json.load(fh)
    except (ValueError, UnicodeDecodeError):
        return True  # not plain JSON after all: trust what GDAL read


def _looks_lonlat(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = bounds
    finite = all(math.isfinite(v) for v in bounds)
    return finite and -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _area_name(value: object) -> str | None:
    """Area names as text: 8 and 8.0 both become '8'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def area_key(value: object) -> str | None:
    """The form an area name is compared in: case, spaces, a "Ward" / "District" / "CD" prefix
    and leading zeros do not count ("Ward 07", "07", "ward 7", "7.0" are all "7")."""
    name = _area_name(value)
    if name is None:
        return None
    key = " ".join(name.lower().split())
    key = _AREA_PREFIX.sub("", key)
    key = re.sub(r"^(\d+)\.0+$", r"\1", key)
    key = re.sub(r"^0+(\d)", r"\1", key)
    return key or None


def check_degrees(lat: np.ndarray, lon: np.ndarray) -> None:
    """InputError when the coordinates are not degrees (most of those present out of ±90 /
    ±180): they must never be stored as lat/lon. A mapping file declares their system."""
    with np.errstate(invalid="ignore"):
        present = np.isfinite(lat) & np.isfinite(lon) & (lat != 0) & (lon != 0)
        out = present & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if out.sum() and out.sum() > NOT_DEGREES_SHARE * present.sum():
        i = int(np.flatnonzero(out)[0])
        raise InputError(
            f"{int(out.sum()):,} of {int(present.sum()):,} coordinates are not degrees (e.g. lat "
            f"{lat[i]:,.1f}, lon {lon[i]:,.1f}): projected coordinates need their system; map "
            "them as x and y with [coordinates] crs in a mapping file (e.g. crs = \"EPSG:2263\")"
        )


def read_boundary(path: Path | str, key: str, crs: str | None = None,
                  keep: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """The file's areas in EPSG:4326: `name` (the KEY property as text), the KEEP properties as
    they are, and `geometry`.

    CRS: `crs` (from city.toml / --crs) when given, else the file's own; a file that declares
    none must already be lon/lat.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"boundary file not found: {path}")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputError(f"cannot read boundary file {path}: {exc}") from exc
    _check_areas(path, frame, key)
    for name in (key, *keep):
        if name not in frame.columns:
            props = ", ".join(c for c in frame.columns if c != "geometry") or "none"
            raise InputError(f"{path.name} has no property {name!r}; its properties are: {props}")
    if crs:
        frame = frame.set_crs(parse_crs(crs), allow_override=True)
    elif not _declares_crs(path, frame):
        if not _looks_lonlat(frame.total_bounds):
            x0, y0, x1, y1 = (round(float(v)) for v in frame.total_bounds)
            raise InputError(
                f"{path.name} declares no coordinate system and its coordinates are not "
                f"longitude/latitude (x {x0}..{x1}, y {y0}..{y1}); give its CRS with --crs "
                "(e.g. --crs EPSG:2249 for Massachusetts State Plane feet), or crs = \"EPSG:...\" "
                "in the layer's [[boundaries]] entry of city.toml"
            )
        frame = frame.set_crs(WGS84, allow_override=True)
    frame = frame.to_crs(WGS84)
    if not _looks_lonlat(frame.total_bounds):
        raise InputError(
            f"{path.name}: after reprojecting from {frame.crs} the coordinates are not "
            "longitude/latitude; check --crs"
        )
    columns = {"name": [_area_name(v) for v in frame[key]]}
    columns.update({name: frame[name].to_numpy() for name in keep})
    return gpd.GeoDataFrame(columns, geometry=frame.geometry.values, crs=WGS84)


AREA_TYPES = ("Polygon", "MultiPolygon")


def _check_areas(path: Path, frame: gpd.GeoDataFrame, key: str) -> None:
    """InputError unless every feature is an area: a polygon or multipolygon, not empty."""
    if frame.empty:
        raise InputError(f"{path.name} holds no features: a boundary layer needs areas")
    missing = frame.geometry.isna() | frame.geometry.is_empty
    kinds = frame.geometry.geom_type
    wrong = ~missing & ~kinds.isin(AREA_TYPES)
    names = frame[key].astype(str).tolist() if key in frame.columns else [str(i) for i in frame.index]
    if missing.any():
        examples = ", ".join(repr(n) for n in [n for n, m in zip(names, missing, strict=True) if m][:3])
        raise InputError(f"{path.name}: {int(missing.sum())} feature(s) have no geometry "
                         f"({examples}); every area of a boundary layer needs a polygon")
    if wrong.any():
        found = ", ".join(sorted(set(kinds[wrong])))
        raise InputError(f"{path.name} holds {found} features, not areas: a boundary layer must "
                         "be polygons (district or neighbourhood outlines)")


@dataclass(frozen=True)
class AreaLayer:
    """One boundary layer ready for point-in-polygon."""

    names: np.ndarray  # object array of area names, one per polygon
    polygons: np.ndarray  # shapely geometries, prepared
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> AreaLayer:
        polygons = np.asarray(frame.geometry.values, dtype=object)
        shapely.prepare(polygons)
        return cls(np.asarray(frame["name"], dtype=object), polygons, shapely.bounds(polygons))

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon containing each point, else -1. A point on a shared edge, or in
        overlapping polygons, goes to the first of them."""
        result = np.full(len(lon), -1, dtype=np.int64)
        valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        if len(valid) == 0:
            return result
        order = valid[np.argsort(lon[valid], kind="stable")]
        sorted_lon = lon[order]
        for i, (minx, miny, maxx, maxy) in enumerate(self.bounds):
            lo = np.searchsorted(sorted_lon, minx, side="left")
            hi = np.searchsorted(sorted_lon, maxx, side="right")
            candidates = order[lo:hi]
            candidates = candidates[(lat[candidates] >= miny) & (lat[candidates] <= maxy)]
            candidates = candidates[result[candidates] < 0]
            if len(candidates):
                inside = shapely.intersects_xy(self.polygons[i], lon[candidates], lat[candidates])
                result[candidates[inside]] = i
        return result

    def names_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Area name for each point (None outside every polygon)."""
        index = self.locate(lon, lat)
        names = np.empty(len(index), dtype=object)
        hit = index >= 0
        names[hit] = self.names[index[hit]]
        return names


@dataclass(frozen=True)
class Located:
    """Where a batch of points fell."""

    district: np.ndarray  # object: area name or None
    neighborhood: np.ndarray  # object: area name or None
    no_coordinates: np.ndarray  # bool
    placeholder: np.ndarray  # bool: (0, 0), out of range, or a configured placeholder point
    outside_city: np.ndarray  # bool: usable point outside every polygon of the main layer


class Areas:
    """A city's boundary layers (district and neighbourhood), loaded once per ingest run."""

    def __init__(self, district: AreaLayer | None = None, neighborhood: AreaLayer | None = None,
                 placeholder_points: Iterable[tuple[float, float]] = ()):
        self.district = district
        self.neighborhood = neighborhood
        self.placeholder_points = tuple(placeholder_points)  # (lat, lon) pairs

    @classmethod
    def from_city(cls, city: City) -> Areas:
        layers = {
            b.layer: AreaLayer.from_frame(read_boundary(b.file, b.key, b.crs))
            for b in city.boundaries
            if b.layer in ("district", "neighborhood")
        }
        return cls(layers.get("district"), layers.get("neighborhood"),
                   city.placeholder_points)

    def placeholder_mask(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Coordinates that stand for 'unknown': zero, out of range, or a known placeholder."""
        with np.errstate(invalid="ignore"):
            mask = (np.abs(lat) < PLACEHOLDER_EPSILON) | (np.abs(lon) < PLACEHOLDER_EPSILON)
            mask |= (np.abs(lat) > 90) | (np.abs(lon) > 180)
            for plat, plon in self.placeholder_points:
                mask |= (np.abs(lat - plat) < 1e-6) & (np.abs(lon - plon) < 1e-6)
        return mask & np.isfinite(lat) & np.isfinite(lon)

    def locate(self, lat: Sequence[float], lon: Sequence[float]) -> Located:
        """District, neighbourhood and coordinate flags for each point."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        missing = ~(np.isfinite(lat) & np.isfinite(lon))
        placeholder = self.placeholder_mask(lat, lon)
        usable = ~missing & ~placeholder
        x = np.where(usable, lon, np.nan)
        y = np.where(usable, lat, np.nan)
        empty = np.full(len(lat), None, dtype=object)
        district = self.district.names_at(x, y) if self.district else empty
        neighborhood = self.neighborhood.names_at(x, y) if self.neighborhood else empty.copy()
        main = district if self.district else neighborhood
        has_layer = self.district is not None or self.neighborhood is not None
        outside = usable & np.equal(main, None) if has_layer else np.zeros(len(lat), dtype=bool)
        return Located(district, neighborhood, missing, placeholder, outside)

    @property
    def has_layers(self) -> bool:
        return self.district is not None or self.neighborhood is not None

    def source_districts(self, values: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
        """(district, unknown) for the export's own district values. With a district layer: the
        layer's area a value names (compared by area_key), else None and unknown=True, so the
        column never mixes the layer's names with another layer's codes or "Undetermined".
        Without one (no boundary file, or neighbourhoods only): the values as they are."""
        values = pd.Series(np.asarray(values, dtype=object), dtype="object")
        texts = {v: _area_name(v) for v in values.dropna().unique()}
        present = values.map(texts).notna().to_numpy()
        if self.district is None:
            table = texts
        else:
            lookup = {area_key(n): n for n in self.district.names if area_key(n) is not None}
            table = {v: lookup.get(area_key(t)) for v, t in texts.items()}
        names = values.map(table).to_numpy(dtype=object, copy=True)
        missing = pd.isna(names)
        names[missing] = None
        unknown = present & missing if self.district is not None \
            else np.zeros(len(values), dtype=bool)
        return names, unknown

    def assign_areas(self, lat: Sequence[float], lon: Sequence[float]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(district, neighborhood) name for each point, None where none applies."""
        located = self.locate(lat, lon)
        return located.district, located.neighborhood
