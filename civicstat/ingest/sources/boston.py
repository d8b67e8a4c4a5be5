"""Boston 311 (Analyze Boston "311 Service Requests"): the legacy schema and the new system's.

Legacy (2011-2025): case_enquiry_id, open_dt, target_dt or sla_target_dt, closed_dt, ontime or
on_time, case_status, closure_reason, case_title, subject > reason > type, queue, department,
source, location (the street address), ward, latitude/longitude, location_zipcode (as a float).
New system (2025-): case_id, open_date, target_close_date, close_date, on_time, case_status,
closure_reason, closure_comments, case_topic, service_name, assigned_department, assigned_team,
report_source, full_address, ward, neighborhood, latitude/longitude.

Mapping: request_id = case_enquiry_id / case_id; created_at = open_dt / open_date; due_at = the
source's target date; closed_at = closed_dt / close_date; no updated_at; status = case_status;
closure from the closure reason (Duplicate of Existing Case, Case Invalid, referred,
administratively closed...); department = subject / assigned_department (the readable name;
legacy `department` is a queue code); category = reason / case_topic; request_type = type /
service_name; channel = source / report_source; address = location / full_address; description =
case_title where it says more than the type; resolution = closure_comments / closure_reason;
source_district = ward ("Ward 8", "08" -> "8", matching the ward boundaries' WARD);
source_neighborhood = neighborhood. Coordinates come through as published, including Boston's
placeholder point (42.3594, -71.0587, City Hall Plaza) for cases without a location: ingest
flags it.
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
    first_text,
    status,
)
from civicstat.ingest.sources.reading import Batch, TabularAdapter

PLACEHOLDER = (42.3594, -71.0587)  # City Hall Plaza: where cases without a location are put
FIELDS = {
    "request_id": ("caseenquiryid", "caseid"),
    "created_at": ("opendt", "opendate"),
    "due_at": ("targetdt", "slatargetdt", "targetclosedate"),
    "closed_at": ("closeddt", "closedate"),
    "status": ("casestatus",),
    "closure_reason": ("closurereason",),
    "closure_comments": ("closurecomments",),
    "department": ("subject", "assigneddepartment"),
    "category": ("reason", "casetopic"),
    "request_type": ("type", "servicename"),
    "title": ("casetitle",),
    "channel": ("source", "reportsource"),
    "address": ("location", "fulladdress"),
    "ward": ("ward",),
    "neighborhood": ("neighborhood",),
    "lat": ("latitude",),
    "lon": ("longitude",),
}


def map_batch(batch: Batch, timezone: str) -> dict[str, pa.Array]:
    c = Columns(batch, FIELDS)
    c.require("boston", "request_id", "created_at")
    closed_at = datetimes(c.get("closed_at"), timezone)
    state = status(c.get("status"), closed_at)
    reason, comments = c.text("closure_reason"), c.text("closure_comments")
    request_type, title = c.text("request_type"), c.text("title")
    same = pc.fill_null(pc.equal(pc.utf8_lower(title), pc.utf8_lower(request_type)), False)
    lat, lon = coordinates(c.get("lat"), c.get("lon"))
    return {
        "request_id": c.text("request_id"),
        "created_at": datetimes(c.get("created_at"), timezone),
        "closed_at": closed_at,
        "due_at": datetimes(c.get("due_at"), timezone),
        "status": state,
        "closure": closure(state, c.get("status"), first_text(reason, comments)),
        "department": c.text("department"),
        "category": c.text("category"),
        "request_type": request_type,
        "channel": channel(c.get("channel")),
        "address": c.text("address"),
        "description": pc.if_else(same, pa.scalar(None, pa.string()), title),
        "resolution": first_text(comments, reason),
        "lat": lat,
        "lon": lon,
        "source_district": district(c.get("ward")),
        "source_neighborhood": c.text("neighborhood"),
    }


ADAPTER = TabularAdapter("boston", map_batch)
