"""A city folder: its city.toml configuration and the paths of its store and snapshots."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from civicstat import PROJECT_DIR

DEFAULT_CITY_DIR = PROJECT_DIR / "data" / "demo"
SENSITIVE_TIERS = ("no_location", "aggregate_only")
# Times before this are flagged as implausible unless city.toml says otherwise ([quality]
# earliest_date): no 311 system is older (Baltimore's, the first, opened in 1996).
DEFAULT_EARLIEST_DATE = dt.date(1996, 1, 1)


class CityConfigError(ValueError):
    """city.toml is missing or does not describe a usable city."""


@dataclass(frozen=True)
class BoundaryLayer:
    layer: str  # the canonical column it fills: "district" or "neighborhood"
    file: Path
    key: str  # the property that names each area
    population: str | None = None  # optional property holding the population
    crs: str | None = None  # only when the file does not declare its CRS


@dataclass(frozen=True)
class DistrictLabels:
    """How a district is shown to people: city.toml's `[districts] label` pattern ("Council
    District {}", `{}` the district's key) and `[districts.labels]` table ("1" = "Council District
    1", which wins over the pattern). URLs, queries and files keep the keys; `label` is the one
    function that gives a district's label, for pickers, headings, tables, maps and the PDF."""

    pattern: str | None = None
    names: tuple[tuple[str, str], ...] = ()

    def label(self, district: object) -> str:
        key = str(district)
        for name, text in self.names:
            if name == key:
                return text
        return self.pattern.replace("{}", key) if self.pattern else key

    def to_json(self) -> str:
        """For the published snapshot's info (the app reads labels there, not city.toml)."""
        return json.dumps({"pattern": self.pattern, "names": dict(self.names)}, sort_keys=True)

    @classmethod
    def from_info(cls, info: dict | None) -> DistrictLabels:
        """From a snapshot's info (`district_labels`); keys as labels when it has none."""
        text = (info or {}).get("district_labels")
        if not isinstance(text, str) or not text:
            return cls()
        raw = json.loads(text)
        return cls(raw.get("pattern"), tuple(sorted(raw.get("names", {}).items())))


def _district_labels(raw: object, path: Path) -> DistrictLabels:
    """city.toml's [districts]: `label` (a pattern with {}) and a [districts.labels] table."""
    raw = raw if isinstance(raw, dict) else {}
    pattern, names = raw.get("label"), raw.get("labels", {})
    if pattern is not None and (not isinstance(pattern, str) or "{}" not in pattern):
        raise CityConfigError(f'{path}: districts.label must be text with {{}} for the district, '
                              'e.g. "Council District {}"')
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise CityConfigError(f'{path}: [districts.labels] maps a district to its label, '
                              'e.g. "1" = "Council District 1"')
    return DistrictLabels(pattern, tuple(sorted((str(k), v) for k, v in names.items())))


def _map_style(raw: object, path: Path) -> str | None:
    """city.toml's [map] style: the URL of a base-map style (MapLibre / Mapbox style JSON) every
    map draws under the districts; none by default (no request leaves the app's own host)."""
    style = (raw if isinstance(raw, dict) else {}).get("style")
    if style is None or style == "":
        return None
    if not isinstance(style, str) or not style.startswith(("https://", "http://", "/")):
        raise CityConfigError(f"{path}: map.style must be the URL of a map style "
                              '(e.g. "https://tiles.example.org/style.json")')
    return style


@dataclass(frozen=True)
class City:
    root: Path
    name: str
    timezone: str
    fiscal_year_start_month: int = 7
    boundaries: tuple[BoundaryLayer, ...] = ()
    target_hours: dict[str, float] = field(default_factory=dict)
    default_target_hours: float | None = None
    goals: dict[str, dict[str, float]] = field(default_factory=dict)
    k: int = 10
    sensitive: dict[str, str] = field(default_factory=dict)
    # (lat, lon) points the city's system uses for "location unknown" (e.g. City Hall)
    placeholder_points: tuple[tuple[float, float], ...] = ()
    earliest_date: dt.date = DEFAULT_EARLIEST_DATE  # earlier times are flagged date_before_earliest
    as_of: dt.datetime | None = None  # city.toml's `as_of`: overrides the data's (core/asof.py)
    district_labels: DistrictLabels = DistrictLabels()  # [districts]: how districts are shown
    map_style: str | None = None  # [map] style: a base-map style URL; None: no base map

    @property
    def store_path(self) -> Path:
        return self.root / "store.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def internal_path(self) -> Path:
        return self.build_dir / "internal.duckdb"

    @property
    def public_path(self) -> Path:
        return self.build_dir / "public.duckdb"

    def layer(self, name: str) -> BoundaryLayer | None:
        return next((b for b in self.boundaries if b.layer == name), None)


def city_dir_from_env() -> Path:
    """The city folder the app serves: $CIVICSTAT_CITY, else the demo city."""
    value = os.environ.get("CIVICSTAT_CITY")
    return Path(value).expanduser().resolve() if value else DEFAULT_CITY_DIR


def _earliest_date(value: object, path: Path) -> dt.date:
    """[quality] earliest_date: a TOML date, or a date written as text; the default if absent."""
    if value is None:
        return DEFAULT_EARLIEST_DATE
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CityConfigError(f"{path}: quality.earliest_date must be a date (YYYY-MM-DD)") from exc


def _as_of(value: object, path: Path) -> dt.datetime | None:
    """city.toml's `as_of`: a TOML date-time (local), or a date (the end of that day), or text."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value or " " in value.strip() \
                else dt.date.fromisoformat(value)
        except ValueError as exc:
            raise CityConfigError(f"{path}: as_of must be a date or a date-time "
                                  "(YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from exc
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(23, 59, 59))
    raise CityConfigError(f"{path}: as_of must be a date or a date-time")


def load_city(root: Path | str) -> City:
    """Read and check ROOT/city.toml."""
    root = Path(root).expanduser().resolve()
    path = root / "city.toml"
    if not path.is_file():
        raise CityConfigError(f"{root} is not a city folder: {path.name} not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CityConfigError(f"{path}: {exc}") from exc
    for key in ("name", "timezone"):
        if not raw.get(key):
            raise CityConfigError(f"{path}: '{key}' is required")
    boundaries = tuple(
        BoundaryLayer(
            layer=b["layer"],
            file=(root / b["file"]),
            key=b["key"],
            population=b.get("population"),
            crs=b.get("crs"),
        )
        for b in raw.get("boundaries", [])
    )
    targets = raw.get("targets", {})
    privacy = raw.get("privacy", {})
    sensitive = dict(privacy.get("sensitive", {}))
    for rtype, tier in sensitive.items():
        if tier not in SENSITIVE_TIERS:
            raise CityConfigError(
                f"{path}: sensitive type {rtype!r} has tier {tier!r}; "
                f"use one of {', '.join(SENSITIVE_TIERS)}"
            )
    earliest = _earliest_date(raw.get("quality", {}).get("earliest_date"), path)
    month = int(raw.get("fiscal_year_start_month", 7))
    if not 1 <= month <= 12:
        raise CityConfigError(f"{path}: fiscal_year_start_month must be 1..12")
    return City(
        root=root,
        name=raw["name"],
        timezone=raw["timezone"],
        fiscal_year_start_month=month,
        boundaries=boundaries,
        target_hours={k: float(v) for k, v in targets.get("hours", {}).items()},
        default_target_hours=(
            float(targets["default_hours"]) if "default_hours" in targets else None
        ),
        goals={d: dict(g) for d, g in raw.get("goals", {}).items()},
        k=int(privacy.get("k", 10)),
        sensitive=sensitive,
        placeholder_points=tuple(
            (float(lat), float(lon))
            for lat, lon in raw.get("quality", {}).get("placeholder_points", [])
        ),
        earliest_date=earliest,
        as_of=_as_of(raw.get("as_of"), path),
        district_labels=_district_labels(raw.get("districts"), path),
        map_style=_map_style(raw.get("map"), path),
    )
