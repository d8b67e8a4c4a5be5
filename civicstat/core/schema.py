"""The canonical request schema: columns, types, which are public, and the allowed values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    public: bool  # may appear in public.duckdb (lat/lon are coarsened there)
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("request_id", "VARCHAR", True, "the source's id, unique within the city"),
    Column("created_at", "TIMESTAMP", True, "when the request was made (city local time)"),
    Column("updated_at", "TIMESTAMP", True, "last change in the source"),
    Column("closed_at", "TIMESTAMP", True, "when it was closed; empty while open"),
    Column("due_at", "TIMESTAMP", True, "service-level target: the source's due date, "
           "else created_at + the type's target"),
    Column("status", "VARCHAR", True, "open or closed"),
    Column("closure", "VARCHAR", True, "resolved, duplicate, cancelled, referred, other "
           "(empty while open)"),
    Column("department", "VARCHAR", True, "the agency responsible"),
    Column("request_type", "VARCHAR", True, "complaint type / service name"),
    Column("category", "VARCHAR", True, "a broader group of types"),
    Column("channel", "VARCHAR", True, "phone, web, app, email, walk-in, social, internal, other"),
    Column("district", "VARCHAR", True, "council district"),
    Column("neighborhood", "VARCHAR", True, "neighbourhood, where the city has them"),
    Column("lat", "DOUBLE", True, "latitude, WGS84 (public: rounded to about 100 m)"),
    Column("lon", "DOUBLE", True, "longitude, WGS84 (public: rounded to about 100 m)"),
    Column("address", "VARCHAR", False, "street address"),
    Column("description", "VARCHAR", False, "the resident's free text"),
    Column("resolution", "VARCHAR", False, "the department's closing note"),
    Column("source", "VARCHAR", True, "which adapter / file it came from"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
PUBLIC_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.public)
PRIVATE_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS if not c.public)

STATUSES = ("open", "closed")
CLOSURES = ("resolved", "duplicate", "cancelled", "referred", "other")
CHANNELS = ("phone", "web", "app", "email", "walk-in", "social", "internal", "other")

# Doubtful-but-usable values are kept and flagged (the data-quality view counts them).
FLAGS = (
    "closed_before_created",
    "no_coordinates",
    "placeholder_coordinates",
    "outside_city",
    "unknown_district",  # the export's district names no area of the city's district layer
    "unknown_status",
    "duplicate_id_in_file",
    "information_only",  # not a service request: left out of performance figures
    "date_in_future",  # a created, updated or closed time after the ingest (plus a day)
    "date_before_earliest",  # a time before the city's earliest plausible date (city.toml)
)

# Rows with these flags never set the data's as-of time (one record dated 2099 must not empty
# every default period).
IMPLAUSIBLE_DATE_FLAGS = ("date_in_future", "date_before_earliest")


def requests_ddl(table: str = "requests", extra: str = "") -> str:
    """CREATE TABLE statement for the canonical requests table (plus optional extra columns)."""
    cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in COLUMNS)
    extra_sql = f",\n    {extra}" if extra else ""
    return f"create table if not exists {table} (\n    {cols}{extra_sql}\n)"
