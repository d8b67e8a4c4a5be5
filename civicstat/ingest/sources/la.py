"""Los Angeles MyLA311 service requests (data.lacity.org "MyLA311 Service Request Data <year>").

Header styles: SRNumber / CreatedDate / RequestType... (the CSV download, 2016-), "SR Number" /
"Created Date" / "Request Type"... (older downloads) and srnumber / createddate... (the API);
all are the same key once reduced (reading.header_key). Dates `12/31/2017 11:59:58 PM` or ISO.

Mapping: request_id = SRNumber; created_at / updated_at / closed_at = CreatedDate / UpdatedDate /
ClosedDate; no due_at (ServiceDate is a pickup appointment or a completion time, not a target);
status: Closed -> closed (resolved), Cancelled -> closed (cancelled), Referred Out -> closed
(referred), Open / Pending / Forward -> open; department = Owner (the owning agency's acronym:
BOS, OCB, BSL, ITA, LADWP...); request_type = RequestType; no category; channel = RequestSource
(Call -> phone, Self Service -> web, Mobile App -> app, Driver Self Report -> internal, Email,
Council's Office -> internal...); address = Address; source_district = CD (council district);
source_neighborhood = NCName (neighborhood council); lat/lon = Latitude/Longitude, else Location.
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
    status,
)
from civicstat.ingest.sources.reading import Batch, TabularAdapter

FIELDS = {
    "request_id": ("srnumber",),
    "created_at": ("createddate",),
    "updated_at": ("updateddate",),
    "closed_at": ("closeddate",),
    "status": ("status",),
    "department": ("owner",),
    "request_type": ("requesttype",),
    "channel": ("requestsource",),
    "address": ("address",),
    "council_district": ("cd",),
    "neighborhood_council": ("ncname",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "location": ("location",),
}


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    c = Columns(batch, FIELDS)
    c.require("la", "request_id", "created_at")
    closed_at = datetimes(c.get("closed_at"), timezone)
    state = status(c.get("status"), closed_at)
    lat, lon = coordinates(c.get("lat"), c.get("lon"), c.get("location"))
    return {
        "request_id": c.text("request_id"),
        "created_at": datetimes(c.get("created_at"), timezone),
        "updated_at": datetimes(c.get("updated_at"), timezone),
        "closed_at": closed_at,
        "status": state,
        "closure": closure(state, c.get("status")),
        "department": c.text("department"),
        "request_type": c.text("request_type"),
        "channel": channel(c.get("channel")),
        "address": c.text("address"),
        "lat": lat,
        "lon": lon,
        "source_district": district(c.get("council_district")),
        "source_neighborhood": c.text("neighborhood_council"),
    }


ADAPTER = TabularAdapter("la", map_batch)
