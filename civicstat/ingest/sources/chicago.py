"""Chicago 311 service requests from the data portal ("311 Service Requests", v6vf-nfxy).

The CSV download (SR_NUMBER, SR_TYPE, CREATED_DATE... dates `04/18/2019 09:55:45 PM`) and the API
(sr_number, sr_type, created_date... ISO dates): upper or lower case, the same key once reduced.
(Chicago's Open311 GeoReport feed is read by the open311 adapter.)

Mapping: request_id = SR_NUMBER; created_at / updated_at / closed_at = CREATED_DATE /
LAST_MODIFIED_DATE / CLOSED_DATE; status: Completed -> closed (resolved), Canceled -> closed
(cancelled), Open -> open; DUPLICATE true (or an older "... - Dup" status) -> closure
"duplicate", whatever the status, so duplicates stay out of every performance figure, backlog
included; department = OWNER_DEPARTMENT (else CREATED_DEPARTMENT); request_type = SR_TYPE; no
category; channel = ORIGIN (Phone Call, Internet -> web, Mobile Device -> app, E-Mail,
Walk In, Alderman's Office / Salesforce Mobile App / Generated In House -> internal...);
address = STREET_ADDRESS + ", " + ZIP_CODE; source_district = WARD; is_information_only for
INFORMATION_ONLY_TYPES; lat/lon = LATITUDE/LONGITUDE, else LOCATION, else X/Y_COORDINATE
(Illinois State Plane East, EPSG:3435).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from civicstat.ingest.sources.parsing import (
    Columns,
    channel,
    closure,
    coordinates,
    datetimes,
    district,
    status,
    text,
    truthy,
    with_zip,
)
from civicstat.ingest.sources.reading import Batch, TabularAdapter

STATE_PLANE = "EPSG:3435"  # NAD83 / Illinois East (ftUS)
# Calls that ask for no service: information calls, and aircraft noise complaints (logged for the
# airport noise office; closed on receipt, with no location). Compared in upper case.
INFORMATION_ONLY_TYPES = ("311 INFORMATION ONLY CALL", "AIRCRAFT NOISE COMPLAINT")
INFORMATION_ONLY_CODES = ("311IOC",)
FIELDS = {
    "request_id": ("srnumber",),
    "created_at": ("createddate",),
    "updated_at": ("lastmodifieddate",),
    "closed_at": ("closeddate",),
    "status": ("status",),
    "duplicate": ("duplicate",),
    "department": ("ownerdepartment", "createddepartment"),
    "request_type": ("srtype",),
    "type_code": ("srshortcode",),
    "channel": ("origin",),
    "address": ("streetaddress",),
    "zip": ("zipcode",),
    "ward": ("ward",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "location": ("location",),
    "x": ("xcoordinate",),
    "y": ("ycoordinate",),
}


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    c = Columns(batch, FIELDS)
    c.require("chicago", "request_id", "created_at")
    closed_at = datetimes(c.get("closed_at"), timezone)
    state = status(c.get("status"), closed_at)
    duplicate = pc.fill_null(truthy(c.get("duplicate")), False)
    how = pc.if_else(duplicate, "duplicate", closure(state, c.get("status")))
    request_type = c.text("request_type")
    info = pc.or_(
        pc.is_in(pc.utf8_upper(request_type), value_set=pa.array(INFORMATION_ONLY_TYPES)),
        pc.is_in(pc.utf8_upper(text(c.get("type_code"))), value_set=pa.array(INFORMATION_ONLY_CODES)),
    )
    lat, lon = coordinates(
        c.get("lat"), c.get("lon"), c.get("location"), (c.get("x"), c.get("y"), STATE_PLANE)
    )
    return {
        "request_id": c.text("request_id"),
        "created_at": datetimes(c.get("created_at"), timezone),
        "updated_at": datetimes(c.get("updated_at"), timezone),
        "closed_at": closed_at,
        "status": state,
        "closure": how,
        "department": c.text("department"),
        "request_type": request_type,
        "channel": channel(c.get("channel")),
        "address": with_zip(c.get("address"), c.get("zip")),
        "lat": lat,
        "lon": lon,
        "source_district": district(c.get("ward")),
        "is_information_only": pc.fill_null(info, False),
    }


ADAPTER = TabularAdapter("chicago", map_batch)
