"""NYC Open Data 311 ("311 Service Requests from 2010 to Present", erm2-nwe9), every shape of it.

- the portal CSV: Title Case headers (`Unique Key`, `Created Date`), dates `04/18/2019 09:55:45 PM`;
- the API (SODA) export as CSV or JSON: snake_case headers, ISO dates, `location` as a dict;
- spreadsheet re-saves (bare-CR line endings, `CreatedDate`, `12/31/15 23:08`);
- a header-less 5-column extract: unique_key, created_date, closed_date, complaint_type, borough.

Mapping: request_id = Unique Key; created/closed/due_at = Created/Closed/Due Date;
updated_at = Resolution Action Updated Date; status: Closed -> closed, Open / In Progress /
Assigned / Pending / Started / Email Sent -> open, else as published (no status column: closed
iff there is a Closed Date); closure from the Resolution Description (duplicate, referred,
cancelled, else resolved); department = Agency (the acronym: Agency Name is spelt many ways);
request_type = Complaint Type; category = NULL (NYC has no broader group; Descriptor is narrower);
channel = Open Data Channel Type (PHONE, ONLINE -> web, MOBILE -> app, UNKNOWN / OTHER -> other);
address = Incident Address (else "Intersection Street 1 & 2") + ", " + the 5-digit Incident Zip;
description = NULL (NYC publishes no resident text); resolution = Resolution Description;
source_district = Council District where the export has it (a community board is not a council
district); no source neighbourhood (boroughs are too coarse). lat/lon = Latitude/Longitude, else
the `location` column, else the State Plane X/Y (EPSG:2263).
"""

from __future__ import annotations

import pyarrow as pa

from civicstat.ingest.sources.parsing import (
    Columns,
    channel,
    closure,
    coordinates,
    datetimes,
    district,
    first_text,
    joined,
    status,
    with_zip,
)
from civicstat.ingest.sources.reading import Batch, TabularAdapter

STATE_PLANE = "EPSG:2263"  # NAD83 / New York Long Island (ftUS)
LAYOUTS = {5: ("unique_key", "created_date", "closed_date", "complaint_type", "borough")}
FIELDS = {
    "request_id": ("uniquekey",),
    "created_at": ("createddate",),
    "closed_at": ("closeddate",),
    "due_at": ("duedate",),
    "updated_at": ("resolutionactionupdateddate",),
    "status": ("status",),
    "department": ("agency", "agencyname"),
    "request_type": ("complainttype",),
    "channel": ("opendatachanneltype",),
    "address": ("incidentaddress",),
    "street_1": ("intersectionstreet1",),
    "street_2": ("intersectionstreet2",),
    "zip": ("incidentzip",),
    "resolution": ("resolutiondescription",),
    "council_district": ("councildistrict",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "location": ("location", "geometry"),
    "x": ("xcoordinatestateplane",),
    "y": ("ycoordinatestateplane",),
}


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    c = Columns(batch, FIELDS)
    c.require("nyc", "request_id", "created_at")
    closed_at = datetimes(c.get("closed_at"), timezone)
    state = status(c.get("status"), closed_at)
    lat, lon = coordinates(
        c.get("lat"), c.get("lon"), c.get("location"), (c.get("x"), c.get("y"), STATE_PLANE)
    )
    street = first_text(c.get("address"), joined(c.get("street_1"), c.get("street_2"), " & "))
    return {
        "request_id": c.text("request_id"),
        "created_at": datetimes(c.get("created_at"), timezone),
        "updated_at": datetimes(c.get("updated_at"), timezone),
        "closed_at": closed_at,
        "due_at": datetimes(c.get("due_at"), timezone),
        "status": state,
        "closure": closure(state, c.get("status"), c.get("resolution")),
        "department": c.text("department"),
        "request_type": c.text("request_type"),
        "channel": channel(c.get("channel")) if c.has("channel") else None,
        "address": with_zip(street, c.get("zip")),
        "resolution": c.text("resolution"),
        "lat": lat,
        "lon": lon,
        "source_district": district(c.get("council_district")) if c.has("council_district") else None,
    }


ADAPTER = TabularAdapter("nyc", map_batch, LAYOUTS)
