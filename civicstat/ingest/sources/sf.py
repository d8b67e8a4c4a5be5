"""San Francisco 311 cases (DataSF "311 Cases", vw6y-z8j6) under any of its three sets of names.

- the portal CSV: CaseID, Opened, Closed, Updated, Status, Status Notes, Responsible Agency,
  Category, Request Type, Request Details, Address, Supervisor District, Neighborhood,
  Latitude, Longitude, Point, Source (dates 04/18/2019 09:55:45 PM);
- the API: service_request_id, requested_datetime, closed_date, updated_datetime, status_description,
  status_notes, agency_responsible, service_name, service_subtype, address, supervisor_district,
  analysis_neighborhood, lat, long, point, source (ISO dates);
- the BigQuery copy (bigquery-public-data.san_francisco_311): unique_key, created_date,
  closed_date, resolution_action_updated_date, status, status_notes, agency_name, category,
  complaint_type, descriptor, incident_address, supervisor_district, neighborhood,
  location "POINT (lon lat)", source, latitude, longitude; times written "2009-05-06 07:04:21 UTC".

The " UTC" of the BigQuery copy is a mislabel: the values are San Francisco wall-clock times (the
sample's requests peak between 9:00 and 16:00 "UTC", which would be 1:00-8:00 in San Francisco;
DataSF publishes local times). They are read as local (UTC_LABEL_IS_LOCAL).

Mapping: category = Category / service_name; request_type = Request Type / service_subtype /
complaint_type; department = Responsible Agency (a queue name in the BigQuery copy); resolution =
Status Notes, and closure from them (duplicate, cancelled, transferred -> referred, admin closed ->
other, else resolved); channel = Source (Phone, Web, Mobile/Open311 -> app, Integrated Agency ->
internal, Twitter -> social, Email); source_district = Supervisor District (pre-2022 lines in old
data: boundaries decide where there are coordinates); source_neighborhood = Neighborhood.
No description: Request Details is a sub-type picklist, not the resident's text.
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

UTC_LABEL_IS_LOCAL = True
FIELDS = {
    "request_id": ("caseid", "servicerequestid", "uniquekey"),
    "created_at": ("opened", "requesteddatetime", "createddate"),
    "closed_at": ("closed", "closeddate"),
    "updated_at": ("updated", "updateddatetime", "resolutionactionupdateddate"),
    "status": ("status", "statusdescription"),
    "notes": ("statusnotes",),
    "department": ("responsibleagency", "agencyresponsible", "agencyname"),
    "category": ("category", "servicename"),
    "request_type": ("requesttype", "servicesubtype", "complainttype"),
    "address": ("address", "incidentaddress"),
    "supervisor_district": ("supervisordistrict",),
    "neighborhood": ("neighborhood", "analysisneighborhood", "neighborhoodsanalysisboundaries"),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "long", "lon"),
    "point": ("point", "location"),
    "channel": ("source",),
}


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    c = Columns(batch, FIELDS)
    c.require("sf", "request_id", "created_at")

    def when(name: str) -> pa.Array:
        return datetimes(c.get(name), timezone, utc_label_is_local=UTC_LABEL_IS_LOCAL)

    closed_at = when("closed_at")
    state = status(c.get("status"), closed_at)
    lat, lon = coordinates(c.get("lat"), c.get("lon"), c.get("point"))
    return {
        "request_id": c.text("request_id"),
        "created_at": when("created_at"),
        "updated_at": when("updated_at"),
        "closed_at": closed_at,
        "status": state,
        "closure": closure(state, c.get("status"), c.get("notes")),
        "department": c.text("department"),
        "category": c.text("category"),
        "request_type": c.text("request_type"),
        "channel": channel(c.get("channel")),
        "address": c.text("address"),
        "resolution": c.text("notes"),
        "lat": lat,
        "lon": lon,
        "source_district": district(c.get("supervisor_district")),
        "source_neighborhood": c.text("neighborhood"),
    }


ADAPTER = TabularAdapter("sf", map_batch)
