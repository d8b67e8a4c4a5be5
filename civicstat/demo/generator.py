"""Riverton, a fictional demo city: its city.toml, its boundaries and a store of 311 requests.

`build_demo(city_dir)` writes a complete city folder that the rest of CivicStat can serve. The data
is synthetic but shaped like a real 311 feed (seasons, weekdays, hours of day, slow departments and
districts, a channel shift to the app, an ageing backlog, duplicates, hostile free text), and it is
deterministic: the same seed and row count give the same rows. Every random draw comes from a numpy
PCG64 generator seeded by (seed, stream, chunk); no row depends on threads or the wall clock (only
the ingest_runs entry records when the build ran).

Rows are made one chunk of days at a time (about a million rows), so memory stays bounded however
many rows are asked for. Categorical columns travel to DuckDB as Arrow dictionaries, and the text
columns (address, description) are assembled in DuckDB from small code tables.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import shapely

from civicstat.core.city import load_city
from civicstat.core.schema import CHANNELS
from civicstat.ingest.store import connect_store

# --------------------------------------------------------------------------------------------------
# The catalog: departments, their categories and request types.
#
# target: service-level target in hours (due_at = created_at + target; written to city.toml)
# per_year: relative yearly volume (a city of 900k files about 280k requests a year; the volumes
#           are scaled so that all types together make `rows`)
# season / rhythm / where: keys of SEASONS, RHYTHMS and WHERE below
# --------------------------------------------------------------------------------------------------


class RequestType(NamedTuple):
    name: str
    target: int  # hours
    per_year: int
    season: str  # key of SEASONS
    rhythm: str  # key of RHYTHMS: hours of the day and days of the week
    where: str  # key of WHERE


T = RequestType

# department -> category -> request types
CATALOG: dict[str, dict[str, tuple[RequestType, ...]]] = {
    "Streets & Sanitation": {
        "Streets": (
            T("Pothole",                      72, 16000, "thaw",      "daytime",   "spread"),
            T("Street Cave-In",               48,   900, "storm",     "daytime",   "mixed"),
            T("Street Sweeping",             240,  3000, "warm",      "daytime",   "mixed"),
        ),
        "Snow & Ice": (
            T("Snow Plowing Request",         24,  6000, "snow",      "always",    "spread"),
            T("Icy Sidewalk",                 72,  2500, "snow",      "daily",     "core"),
            T("Salt Box Refill",              72,   600, "snow",      "daytime",   "spread"),
        ),
        "Sanitation": (
            T("Missed Trash Pickup",          48, 14000, "flat",      "daytime",   "spread"),
            T("Missed Recycling Pickup",      72,  6000, "flat",      "daytime",   "spread"),
            T("Bulk Item Pickup",            168, 12000, "warm",      "office",    "mixed"),
            T("Illegal Dumping",             120,  7000, "warm",      "daily",     "mixed"),
            T("Overflowing Litter Basket",    48,  2500, "summer",    "daily",     "core"),
            T("Garbage Cart Repair",         240,  4000, "flat",      "office",    "spread"),
            T("Graffiti Removal",            168,  6000, "warm",      "daytime",   "core"),
            T("Dead Animal Removal",          24,  3000, "summer",    "daily",     "spread"),
            T("Yard Waste Pickup",           120,  3000, "fall",      "daytime",   "spread"),
        ),
    },
    "Transportation": {
        "Street Lights": (
            T("Street Light Out",            240, 11000, "dark",      "evening",   "mixed"),
            T("Alley Light Out",             240,  3000, "dark",      "evening",   "mixed"),
        ),
        "Signals & Signs": (
            T("Traffic Signal Out",            8,  2500, "storm",     "always",    "core"),
            T("Traffic Sign Damaged",        120,  3000, "flat",      "daytime",   "mixed"),
            T("Crosswalk Repaint",           720,   400, "warm",      "office",    "core"),
        ),
        "Sidewalks & Parking": (
            T("Sidewalk Repair",            2160,  2500, "warm",      "office",    "mixed"),
            T("Parking Meter Broken",         72,  1500, "flat",      "daytime",   "core"),
        ),
        "Traffic Safety": (
            T("Speed Hump Request",         1440,   700, "warm",      "office",    "spread"),
            T("Bike Lane Obstruction",        48,   800, "summer",    "daytime",   "core"),
        ),
    },
    "Water Management": {
        "Water": (
            T("Water Main Break",             12,  1200, "cold",      "always",    "mixed"),
            T("No Water",                      8,  1500, "cold",      "always",    "mixed"),
            T("Low Water Pressure",           72,  1500, "summer",    "daily",     "spread"),
            T("Water Quality Complaint",      48,   700, "flat",      "daytime",   "mixed"),
            T("Fire Hydrant Leaking",         72,  1200, "summer",    "daily",     "mixed"),
        ),
        "Sewer & Flooding": (
            T("Sewer Backup",                 24,  3000, "storm",     "always",    "mixed"),
            T("Clogged Storm Drain",          72,  2500, "storm",     "daily",     "mixed"),
            T("Street Flooding",              24,  1800, "storm",     "always",    "spread"),
        ),
    },
    "Forestry": {
        "Trees": (
            T("Tree Trimming",              1440,  5000, "warm",      "office",    "spread"),
            T("Tree Removal",               2160,  1500, "fall",      "office",    "spread"),
            T("Fallen Tree or Limb",          24,  3000, "storm",     "always",    "spread"),
            T("Stump Removal",              2160,   800, "warm",      "office",    "spread"),
            T("Tree Planting Request",      4320,   600, "warm",      "office",    "spread"),
        ),
        "Leaves": (
            T("Leaf Pickup",                 168,  4000, "fall",      "daytime",   "spread"),
        ),
    },
    "Parks & Recreation": {
        "Parks": (
            T("Park Maintenance",            120,  2500, "summer",    "daytime",   "mixed"),
            T("Playground Repair",           168,   700, "summer",    "daytime",   "spread"),
            T("Overgrown Grass - Park",      168,  1500, "grass",     "daytime",   "spread"),
            T("Park Restroom Issue",          48,   500, "summer",    "daily",     "mixed"),
            T("Athletic Field Condition",    240,   400, "summer",    "daytime",   "spread"),
            T("Pool Issue",                   48,   300, "pool",      "daily",     "mixed"),
        ),
    },
    "Housing": {
        "Housing Conditions": (
            T("Heat/Hot Water",               24, 12000, "heat",      "always",    "core"),
            T("Mold",                        336,  2000, "flat",      "office",    "core"),
            T("Pests",                       240,  3000, "summer",    "daytime",   "core"),
            T("Plumbing Leak",               168,  2500, "flat",      "daytime",   "core"),
            T("Lead Paint",                  720,   400, "flat",      "office",    "core"),
            T("Landlord Lockout",             48,   300, "flat",      "daily",     "core"),
        ),
    },
    "Buildings": {
        "Building Safety": (
            T("Vacant Building",             720,  1500, "flat",      "office",    "mixed"),
            T("Building Without Permit",     240,  1500, "warm",      "office",    "mixed"),
            T("Dangerous Building",           72,   600, "flat",      "daytime",   "core"),
            T("Construction After Hours",     48,  1000, "warm",      "evening",   "core"),
            T("Porch or Stair Hazard",       336,   500, "warm",      "office",    "core"),
        ),
    },
    "Police (Non-Emergency)": {
        "Noise": (
            T("Noise - Residential",           8, 12000, "noise",     "nightlife", "core"),
            T("Noise - Street/Party",          6,  6000, "noise",     "nightlife", "core"),
            T("Noise - Commercial/Bar",        8,  3000, "noise",     "nightlife", "core"),
            T("Fireworks",                     6,   800, "fireworks", "night",     "mixed"),
        ),
        "Vehicles & Parking": (
            T("Abandoned Vehicle",           168,  7000, "flat",      "daytime",   "spread"),
            T("Blocked Driveway",              6,  5000, "flat",      "daily",     "core"),
            T("Illegal Parking",              24,  5000, "flat",      "daytime",   "core"),
        ),
    },
    "Public Health": {
        "Pests & Vectors": (
            T("Rodents",                     168,  5000, "summer",    "daytime",   "core"),
            T("Mosquitoes",                  120,   800, "mosquito",  "daytime",   "spread"),
            T("Standing Water",              120,   500, "mosquito",  "daytime",   "spread"),
            T("Bed Bugs",                    240,   600, "summer",    "office",    "core"),
        ),
        "Sanitary Conditions": (
            T("Food Establishment Complaint", 120, 1500, "flat",      "daytime",   "core"),
            T("Overgrown Weeds - Private Lot", 336, 2500, "grass",    "daytime",   "spread"),
        ),
    },
    "Animal Services": {
        "Animals": (
            T("Stray Dog",                    24,  2500, "warm",      "daily",     "spread"),
            T("Animal Bite",                  24,   500, "summer",    "daily",     "mixed"),
            T("Barking Dog",                 168,  1500, "summer",    "evening",   "mixed"),
            T("Wildlife Nuisance",           120,  1000, "warm",      "daytime",   "spread"),
            T("Animal Cruelty",               48,   500, "flat",      "daily",     "mixed"),
        ),
    },
    "311 Customer Service": {
        "Information": (
            T("Information Request",          24,  9000, "flat",      "office",    "mixed"),
            T("Service Complaint",           120,  1500, "flat",      "office",    "mixed"),
            T("Compliment",                  120,   300, "flat",      "office",    "mixed"),
        ),
    },
    "Human Services": {
        "Outreach": (
            T("Homeless Encampment",         120,  2500, "warm",      "daytime",   "core"),
            T("Discarded Needles",            24,   800, "summer",    "daytime",   "core"),
            T("Wellness Check Referral",      48,  1200, "cold",      "daily",     "mixed"),
        ),
        "Referrals": (
            T("Elder Abuse Referral",         72,   150, "flat",      "office",    "spread"),
            T("Domestic Violence Referral",   24,   200, "flat",      "always",    "mixed"),
            T("Senior Services Request",     240,  1200, "cold",      "office",    "spread"),
        ),
    },
}

# Types the public view must protect (city.toml [privacy.sensitive]).
SENSITIVE: dict[str, str] = {
    "Homeless Encampment": "no_location",
    "Discarded Needles": "no_location",
    "Wellness Check Referral": "no_location",
    "Elder Abuse Referral": "aggregate_only",
    "Domestic Violence Referral": "aggregate_only",
}

# How fast each department works: (pace, yearly trend). Median time to close is
# target / 2.5 x pace x trend ** years since the start; pace 2 means twice as slow.
DEPARTMENT_PACE: dict[str, tuple[float, float]] = {
    "Streets & Sanitation": (1.0, 1.0),
    "Transportation": (1.1, 0.9),  # improving year on year
    "Water Management": (0.9, 1.0),
    "Forestry": (2.0, 1.0),  # underperforms
    "Parks & Recreation": (1.0, 1.0),
    "Housing": (1.1, 1.04),  # slowly getting worse
    "Buildings": (2.2, 1.0),  # underperforms
    "Police (Non-Emergency)": (1.0, 1.0),
    "Public Health": (1.0, 0.97),
    "Animal Services": (0.9, 1.0),
    "311 Customer Service": (0.7, 1.0),
    "Human Services": (1.2, 1.0),
}

# Districts whose crews are stretched: every department is slower there.
DISTRICT_PACE: dict[str, float] = {"District 4": 1.6, "District 9": 1.5, "District 12": 1.7}

# Optional department goals (city.toml [goals."<department>"]).
GOALS: dict[str, dict[str, float]] = {
    "Streets & Sanitation": {"on_time_rate": 0.85, "median_days": 3.0},
    "Transportation": {"on_time_rate": 0.80, "median_days": 5.0},
    "Housing": {"on_time_rate": 0.90, "median_days": 2.0},
    "Buildings": {"on_time_rate": 0.75, "median_days": 14.0},
}

# What residents write: two phrasings per type (a prefix and a suffix are added at random).
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "Pothole": ("Huge pothole in the right lane.", "Deep hole in the street, my tire blew out."),
    "Street Cave-In": ("The pavement is sinking near the curb.", "Street collapsed, big hole."),
    "Street Sweeping": (
        "Street has not been swept in months.", "Gravel and debris all along the curb."),
    "Snow Plowing Request": ("Our street was never plowed.", "Plow skipped the whole block again."),
    "Icy Sidewalk": ("Sidewalk is a sheet of ice.", "Owner never clears the ice, someone fell."),
    "Salt Box Refill": ("The salt box at the corner is empty.", "Please refill the salt box."),
    "Missed Trash Pickup": (
        "Trash was not picked up this week.", "Garbage truck skipped our alley."),
    "Missed Recycling Pickup": ("Blue cart not emptied.", "Recycling missed two weeks in a row."),
    "Bulk Item Pickup": ("Please pick up an old couch.", "Mattress and box spring by the curb."),
    "Illegal Dumping": (
        "Someone dumped tires in the alley.", "Pile of construction debris dumped."),
    "Overflowing Litter Basket": (
        "Trash can on the corner is overflowing.", "Litter basket full, trash blowing around."),
    "Garbage Cart Repair": (
        "Lid of my garbage cart is broken.", "Cart wheel came off, need a new cart."),
    "Graffiti Removal": (
        "Graffiti on the side of the building.", "Tags sprayed on the bus shelter."),
    "Dead Animal Removal": ("Dead raccoon in the street.", "Dead deer on the shoulder."),
    "Yard Waste Pickup": ("Yard waste bags not collected.", "Brush pile waiting for pickup."),
    "Street Light Out": (
        "Street light is out, very dark at night.", "Light pole flickering and off."),
    "Alley Light Out": ("Alley light out behind our garage.", "Whole alley is dark."),
    "Traffic Signal Out": (
        "Traffic light is flashing red.", "Signal dark at the intersection, dangerous."),
    "Traffic Sign Damaged": ("Stop sign knocked down.", "Speed limit sign bent and unreadable."),
    "Crosswalk Repaint": (
        "Crosswalk paint is completely faded.", "Cannot see the crosswalk lines."),
    "Sidewalk Repair": ("Sidewalk slab raised, tripping hazard.", "Broken sidewalk by the school."),
    "Parking Meter Broken": ("Parking meter not taking cards.", "Meter screen is blank."),
    "Speed Hump Request": (
        "Cars speed down our block, we need a speed hump.", "Request speed hump near the park."),
    "Bike Lane Obstruction": (
        "Delivery trucks parked in the bike lane.", "Bike lane blocked by cones."),
    "Water Main Break": ("Water gushing out of the street.", "Water main broke, street flooding."),
    "No Water": ("No water in the house since this morning.", "Whole building has no water."),
    "Low Water Pressure": ("Very low water pressure.", "Pressure drops every evening."),
    "Water Quality Complaint": ("Tap water is brown.", "Water smells like chlorine."),
    "Fire Hydrant Leaking": (
        "Hydrant leaking onto the sidewalk.", "Hydrant open, kids playing in it."),
    "Sewer Backup": (
        "Sewer backing up into the basement.", "Sewage smell and water in floor drain."),
    "Clogged Storm Drain": (
        "Storm drain clogged with leaves.", "Catch basin blocked, water pooling."),
    "Street Flooding": ("Street flooded after the rain.", "Intersection under water."),
    "Tree Trimming": ("Branches hanging over the street.", "Tree touching the power lines."),
    "Tree Removal": ("Dead tree in the parkway.", "Ash tree is dying, please remove."),
    "Fallen Tree or Limb": (
        "Large limb fell and blocks the street.", "Tree fell on a car in the storm."),
    "Stump Removal": ("Stump left after the tree was cut.", "Please grind the stump."),
    "Leaf Pickup": ("Leaves piled at the curb for pickup.", "Leaf piles blocking the drain."),
    "Tree Planting Request": ("Please plant a tree in the parkway.", "Request a new parkway tree."),
    "Park Maintenance": ("Broken bench in the park.", "Park paths covered in mud."),
    "Playground Repair": ("Swing is broken at the playground.", "Slide has a sharp edge."),
    "Overgrown Grass - Park": ("Park grass is knee high.", "Nobody has mowed the park in weeks."),
    "Park Restroom Issue": (
        "Park restroom locked all day.", "Toilet overflowing in the park restroom."),
    "Athletic Field Condition": (
        "Baseball field full of holes.", "Soccer field lines not painted."),
    "Pool Issue": ("Pool closed without notice.", "Pool water is cloudy."),
    "Heat/Hot Water": (
        "No heat in the apartment.", "No hot water for three days, landlord not answering."),
    "Mold": ("Black mold in the bathroom.", "Mold on the bedroom wall."),
    "Pests": ("Cockroaches in the whole building.", "Mice in the kitchen."),
    "Plumbing Leak": ("Ceiling leaking from the unit above.", "Pipe leaking under the sink."),
    "Lead Paint": (
        "Peeling paint in an old building, worried about lead.",
        "Child's room has chipping paint.",
    ),
    "Landlord Lockout": ("Landlord changed the locks.", "Locked out of my apartment by the owner."),
    "Vacant Building": (
        "Vacant house open to trespassers.", "Boarded building with broken windows."),
    "Building Without Permit": (
        "Work going on without a permit.", "Addition being built, no permit posted."),
    "Dangerous Building": ("Wall is leaning over the sidewalk.", "Bricks falling from the facade."),
    "Construction After Hours": ("Construction noise at 6am.", "Jackhammer running late at night."),
    "Porch or Stair Hazard": ("Back porch is rotting.", "Stairs are loose and unsafe."),
    "Noise - Residential": (
        "Loud music from the apartment next door.", "Neighbors yelling and banging all night."),
    "Noise - Street/Party": ("Loud party in the street.", "Car stereo blasting outside."),
    "Noise - Commercial/Bar": ("Bar music way too loud.", "Crowd outside the club at 2am."),
    "Fireworks": ("Fireworks going off all night.", "People setting off fireworks in the street."),
    "Abandoned Vehicle": ("Car has not moved in weeks.", "Abandoned car with flat tires."),
    "Blocked Driveway": ("Car blocking my driveway.", "Someone parked across the driveway."),
    "Illegal Parking": ("Car parked in the bus stop.", "Cars parked on the sidewalk every day."),
    "Rodents": ("Rats in the alley.", "Rats running around the garbage carts."),
    "Mosquitoes": ("Lots of mosquitoes near the pond.", "Mosquitoes are terrible this year."),
    "Standing Water": (
        "Standing water in an empty pool.", "Puddle that never drains, breeding bugs."),
    "Food Establishment Complaint": (
        "Got sick after eating at a restaurant.", "Dirty kitchen seen at a diner."),
    "Overgrown Weeds - Private Lot": (
        "Weeds taller than me on a vacant lot.", "Overgrown yard next door."),
    "Bed Bugs": ("Bed bugs in our apartment.", "Building has bed bugs, landlord ignores it."),
    "Stray Dog": ("Stray dog running loose.", "Loose dog chasing kids."),
    "Animal Bite": ("My child was bitten by a dog.", "Bitten by a neighbor's dog."),
    "Barking Dog": ("Dog barking all day.", "Dog left outside barking at night."),
    "Wildlife Nuisance": ("Raccoons living in the garage.", "Coyote seen in the yard."),
    "Animal Cruelty": ("Dog left in a hot car.", "Dog kept outside without water."),
    "Information Request": ("When is bulk pickup in my area?", "How do I get a parking permit?"),
    "Service Complaint": ("Nobody called me back.", "My request was closed but nothing was done."),
    "Compliment": ("Crew did a great job.", "Thank you for the quick repair."),
    "Homeless Encampment": ("Tents set up under the bridge.", "People camping in the park."),
    "Discarded Needles": ("Needles in the playground.", "Used syringes by the bus stop."),
    "Wellness Check Referral": (
        "Neighbor has not been seen in days.", "Worried about an elderly neighbor."),
    "Elder Abuse Referral": (
        "Concerned an elderly relative is being mistreated.", "Senior neighbor may be neglected."),
    "Domestic Violence Referral": (
        "Asking for help and a safe place to stay.", "Need information about a protective order."),
    "Senior Services Request": (
        "Need help with meals for my mother.", "Request senior ride service."),
}
DESCRIPTION_PREFIXES = ("", "", "", "", "Hello. ", "Please help! ", "Reporting again: ", "Urgent: ")
DESCRIPTION_SUFFIXES = (
    "", "", "", " Thank you.", " It has been like this for a week.", " Kids walk past here every day.",
    " Please fix ASAP!", " Third time I am reporting this.", " Near the corner by the bus stop.",
)
# Residents' text is user input: a few descriptions carry markup a page must not render.
HOSTILE_DESCRIPTIONS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "**bold** $x$ _under_ `code` # heading",
    "Pothole 🚧 near Café Müller — 路面に穴 — حفرة كبيرة \u202eevil\u202c Z̴̡a̸l̷g̶o",
    "'; drop table requests; --",
    "=HYPERLINK(\"http://example.com\",\"click\")",
    "Line one\nline two\ttabbed\r\n<b>bold</b> &amp; &lt;",
)

# The department's closing notes: two for resolved requests per department, and per closure.
RESOLUTION_NOTES: dict[str, tuple[str, str]] = {
    "Streets & Sanitation": ("Crew completed the work.", "Inspected and repaired."),
    "Transportation": ("Repair completed by electrical crew.", "Work order completed."),
    "Water Management": ("Crew repaired the problem.", "Inspected; system working normally."),
    "Forestry": ("Tree work completed.", "Inspected by forester; work done."),
    "Parks & Recreation": ("Park staff fixed the issue.", "Maintenance completed."),
    "Housing": ("Inspector visited; violation issued to owner.", "Owner fixed the condition."),
    "Buildings": ("Inspection done; notice of violation sent.", "Site inspected; complied."),
    "Police (Non-Emergency)": ("Officer responded; situation resolved.", "Gone on arrival."),
    "Public Health": ("Inspected and treated.", "Sanitarian visited; owner cited."),
    "Animal Services": ("Officer responded; animal handled.", "Animal impounded."),
    "311 Customer Service": ("Information provided to the resident.", "Caller answered."),
    "Human Services": ("Outreach team made contact.", "Case opened with a caseworker."),
}
CLOSURE_NOTES: dict[str, tuple[str, ...]] = {
    "duplicate": ("Duplicate of an open request.",),
    "cancelled": ("Cancelled at the resident's request.", "Could not locate the issue."),
    "referred": ("Referred to another agency.", "Private property: referred to owner."),
    "other": ("Closed administratively.",),
}

# --------------------------------------------------------------------------------------------------
# Shapes of time and place: monthly (Jan..Dec), hourly (0..23), weekday (Mon..Sun) weights, and
# where requests come from (downtown, the town centres, anywhere in the city).
# --------------------------------------------------------------------------------------------------

SEASONS: dict[str, tuple[float, ...]] = {
    "flat":      (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "thaw":      (1.2, 2.4, 3.2, 2.6, 1.3, 0.8, 0.6, 0.5, 0.5, 0.6, 0.7, 0.9),  # freeze-thaw
    "heat":      (3.0, 2.6, 1.6, 0.6, 0.2, 0.1, 0.1, 0.1, 0.3, 1.3, 2.2, 2.8),
    "cold":      (1.8, 1.6, 1.2, 0.9, 0.7, 0.6, 0.6, 0.6, 0.7, 0.9, 1.2, 1.6),
    "snow":      (3.0, 2.6, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 2.4),
    "dark":      (1.3, 1.2, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4),
    "warm":      (0.6, 0.6, 0.9, 1.2, 1.3, 1.3, 1.3, 1.2, 1.1, 1.0, 0.8, 0.6),
    "summer":    (0.5, 0.5, 0.7, 0.9, 1.2, 1.6, 1.8, 1.6, 1.1, 0.8, 0.6, 0.5),
    "grass":     (0.1, 0.1, 0.2, 0.6, 1.6, 2.2, 2.4, 2.2, 1.4, 0.6, 0.2, 0.1),
    "mosquito":  (0.0, 0.0, 0.0, 0.1, 0.8, 2.2, 3.0, 2.8, 1.2, 0.2, 0.0, 0.0),
    "pool":      (0.0, 0.0, 0.0, 0.0, 0.3, 3.0, 4.0, 3.0, 0.2, 0.0, 0.0, 0.0),
    "noise":     (0.6, 0.6, 0.8, 0.9, 1.1, 1.5, 1.7, 1.6, 1.1, 0.9, 0.7, 0.7),
    "fireworks": (0.2, 0.1, 0.1, 0.1, 0.3, 1.5, 2.5, 0.3, 0.1, 0.1, 0.1, 0.4),
    "fall":      (0.3, 0.3, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 1.2, 2.8, 2.4, 0.8),
    "storm":     (0.5, 0.5, 0.9, 1.3, 1.5, 1.5, 1.3, 1.1, 0.9, 0.8, 0.6, 0.5),
}
# Day-to-day weather swings per season shape (log-normal sigma); others get WEATHER_SIGMA_DEFAULT.
WEATHER_SIGMA = {"snow": 1.0, "storm": 0.8, "thaw": 0.3, "heat": 0.25}
WEATHER_SIGMA_DEFAULT = 0.1
# (month, day) -> multiplier on top of the season.
SPIKES: dict[str, dict[tuple[int, int], float]] = {
    "fireworks": {(7, 3): 4.0, (7, 4): 12.0, (7, 5): 3.0, (12, 31): 3.0, (1, 1): 4.0},
}

HOURS: dict[str, tuple[float, ...]] = {
    "office":  (.1, .05, .05, .05, .1, .2, .5, 1.2, 2.6, 3.4, 3.6, 3.4,
                2.8, 3.2, 3.3, 3.0, 2.4, 1.2, .6, .4, .3, .2, .15, .1),
    "day":     (.3, .2, .15, .1, .15, .3, .8, 1.6, 2.4, 2.8, 2.9, 2.8,
                2.6, 2.6, 2.6, 2.5, 2.3, 2.1, 1.8, 1.5, 1.2, .9, .6, .4),
    "evening": (.6, .4, .3, .2, .2, .3, .6, 1.0, 1.2, 1.2, 1.1, 1.0,
                1.0, 1.0, 1.0, 1.1, 1.4, 1.8, 2.4, 2.8, 2.8, 2.4, 1.6, 1.0),
    "night":   (2.6, 2.0, 1.3, .7, .3, .2, .2, .2, .3, .4, .4, .5,
                .5, .5, .6, .6, .7, .8, 1.0, 1.4, 2.0, 3.0, 3.6, 3.4),
    "any":     (.6, .5, .4, .4, .5, .7, 1.0, 1.3, 1.5, 1.5, 1.5, 1.4,
                1.4, 1.4, 1.4, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0, .9, .8, .7),
}
DAYS: dict[str, tuple[float, ...]] = {
    "weekday":  (1.15, 1.05, 1.0, 1.0, 0.95, 0.5, 0.4),
    "everyday": (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.85),
    "weekend":  (0.6, 0.55, 0.6, 0.75, 1.5, 2.0, 1.1),  # Friday and Saturday nights
}
# A type's rhythm: (hours of the day, days of the week).
RHYTHMS: dict[str, tuple[str, str]] = {
    "office": ("office", "weekday"),  # office hours on working days
    "daytime": ("day", "weekday"),
    "daily": ("day", "everyday"),
    "evening": ("evening", "everyday"),  # noticed at dusk: lights out, barking
    "always": ("any", "everyday"),  # emergencies: heat, water mains, signals
    "nightlife": ("night", "weekend"),  # noise peaks on Friday and Saturday nights
    "night": ("night", "everyday"),
}
WHERE: dict[str, tuple[float, float, float]] = {
    "core":   (0.40, 0.30, 0.30),
    "mixed":  (0.20, 0.30, 0.50),
    "spread": (0.08, 0.22, 0.70),
}

# Channel mix at the start and at the end of the period (interpolated in between).
CHANNEL_MIX_START = {"phone": .60, "web": .16, "app": .10, "email": .04, "walk-in": .03,
                     "social": .01, "internal": .05, "other": .01}
CHANNEL_MIX_END = {"phone": .35, "web": .18, "app": .35, "email": .03, "walk-in": .01,
                   "social": .03, "internal": .04, "other": .01}
# Share of requests with no description, by channel (app users often skip the text box).
NO_TEXT_SHARE = {"phone": .03, "web": .08, "app": .30, "email": .0, "walk-in": .05,
                 "social": .0, "internal": .40, "other": .2}

# How requests end. Duplicates are closed within hours; the rest follow the type's pace.
DUPLICATE_SHARE = 0.02
CLOSURE_SHARES = {"resolved": .925, "cancelled": .03, "referred": .03, "other": .015}
CLOSURE_PACE = {"resolved": 1.0, "cancelled": 0.5, "referred": 0.4, "other": 1.0}
STUCK_SHARE = 0.02  # requests that fall through the cracks: 7x to 150x slower
CLOSE_SIGMA = 1.0  # log-normal spread of time to close
MEDIAN_TO_TARGET = 1 / 2.5  # a department at pace 1 closes about 80% on time

# --------------------------------------------------------------------------------------------------
# Time, place and size.
# --------------------------------------------------------------------------------------------------

CITY_NAME = "Riverton"
TIMEZONE = "America/Chicago"
START = np.datetime64("2022-07-01")
AS_OF = np.datetime64("2026-06-30T23:59:00")
YEARLY_GROWTH = 1.035

CENTER_LAT, CENTER_LON = 41.6, -88.1
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(CENTER_LAT))
RADIUS_KM = 12.5
DOWNTOWN_KM = (0.8, -0.5)
DOWNTOWN_SIGMA_KM = 2.8
TOWN_CENTRES = 4
TOWN_CENTRE_SIGMA_KM = 1.4
BLOCK_KM = 0.2  # street grid: eight blocks to the mile, 100 house numbers per block
COORD_DECIMALS = 6

DISTRICTS = 14
POPULATION = 900_000
RESIDENT_SAMPLE = 20_000  # points that shape the districts and their populations
NEIGHBORHOODS = (
    "Downtown", "Old Town", "Riverside", "Mill Creek", "Oak Hollow", "Cedar Park", "Maple Heights",
    "Prairie View", "Fox Run", "Willow Bend", "Heritage Hills", "North Bank", "South Bank",
    "Eastgate", "Westfield", "Lincoln Square", "Union Yards", "Harbor Point", "Sunset Ridge",
    "Elm Grove", "Birch Meadow", "Stone Bridge", "Orchard Glen", "Lakeview", "Kingsley",
    "Brookside", "Ashford", "Deer Path", "Pioneer Village", "Canal District", "Foundry Row",
    "College Hill", "Greenway", "Meadowbrook", "Hickory Corners", "Red Oak", "Bluffside",
    "Sandy Ford", "Quarry Flats", "Hawthorne",
)
NS_STREETS = (
    "Maple", "Oak", "Elm", "Cedar", "Pine", "Walnut", "Chestnut", "Hickory", "Birch", "Willow",
    "Ash", "Spruce", "Sycamore", "Linden", "Poplar", "Magnolia", "Cherry", "Juniper", "Aspen",
    "Cottonwood", "Dogwood", "Hawthorn", "Laurel", "Locust", "Mulberry", "Alder", "Beech",
    "Cypress", "Hemlock", "Redbud", "Buckeye", "Catalpa",
)
EW_STREETS = (
    "Main", "Washington", "Adams", "Jefferson", "Madison", "Monroe", "Jackson", "Van Buren",
    "Harrison", "Tyler", "Polk", "Taylor", "Fillmore", "Pierce", "Lincoln", "Grant", "Hayes",
    "Garfield", "Arthur", "Cleveland", "McKinley", "Roosevelt", "Wilson", "Harding", "Coolidge",
    "Hoover", "Truman", "Eisenhower", "Kennedy", "Franklin", "Hamilton", "Marshall",
)
NS_SUFFIXES = ("Ave", "Dr", "Ln", "Ct", "Pl", "Way", "Ter")
EW_SUFFIXES = ("St", "Rd", "Blvd", "Pkwy", "Trl", "Run", "Path")
DIRECTIONS = ("N", "S", "E", "W")

CHUNK_ROWS = 1_000_000
RUN_ID = 0

# Random streams: every generator is PCG64 seeded by (seed, stream[, chunk]).
STREAM_GEOGRAPHY, STREAM_VOLUME, STREAM_CATALOG, STREAM_CHUNK = 1, 2, 3, 4

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def build_demo(
    city_dir: Path,
    rows: int = 1_000_000,
    seed: int = 311,
    progress: Progress | None = None,
) -> None:
    """Build the demo city Riverton in CITY_DIR: city.toml, boundaries/ and a fresh store.duckdb."""
    if rows < 0:
        raise ValueError("rows must be zero or more")
    city_dir = Path(city_dir)
    started = dt.datetime.now().replace(microsecond=0)
    (city_dir / "boundaries").mkdir(parents=True, exist_ok=True)
    (city_dir / "city.toml").write_text(city_toml(), encoding="utf-8")
    geo = make_geography(seed)
    geo.write(city_dir / "boundaries")
    load_city(city_dir)  # the config we wrote must read back

    store = city_dir / "store.duckdb"
    for stale in (store, store.with_name(store.name + ".wal")):
        stale.unlink(missing_ok=True)
    catalog = _Catalog.build(seed)
    counts = daily_counts(rows, seed, catalog)
    con = connect_store(store)
    con.execute("set memory_limit = '2GB'")  # bounded: rows are made and written chunk by chunk
    try:
        done = 0
        for index, (first_day, last_day) in enumerate(chunk_days(counts.sum(axis=1))):
            rng = _rng(seed, STREAM_CHUNK, index)
            table = _make_chunk(rng, counts[first_day:last_day], first_day, done, rows, catalog, geo)
            _insert_chunk(con, table, rows)
            done += table.num_rows
            if progress is not None:
                progress(done, rows)
        _record_run(con, started, rows, seed)
        con.execute("checkpoint")
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------
# city.toml
# --------------------------------------------------------------------------------------------------


def _q(text: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these plain names)."""
    return json.dumps(text, ensure_ascii=False)


def city_toml() -> str:
    """The demo city's configuration, with every request type's target."""
    lines = [
        f"# {CITY_NAME}: a fictional city for the CivicStat demo (written by civicstat.demo.generator).",
        f"name = {_q(CITY_NAME)}",
        f"timezone = {_q(TIMEZONE)}",
        "fiscal_year_start_month = 7",
        f'as_of = "{AS_OF}"   # informational; the data\'s as-of is computed from the data',
        "",
        "# Boundary layers: point-in-polygon fills the district and neighborhood columns.",
        "[[boundaries]]",
        'layer = "district"',
        'file = "boundaries/districts.geojson"',
        'key = "district"',
        'population = "population"',
        "",
        "[[boundaries]]",
        'layer = "neighborhood"',
        'file = "boundaries/neighborhoods.geojson"',
        'key = "neighborhood"',
        "",
        "# Service-level targets in hours: due_at = created_at + the type's target.",
        "[targets]",
        "default_hours = 120",
        "[targets.hours]",
    ]
    for department, categories in CATALOG.items():
        lines.append(f"# {department}")
        lines += [f"{_q(t.name)} = {t.target}" for types in categories.values() for t in types]
    lines += ["", "# Department goals shown on the scorecards."]
    for department, goal in GOALS.items():
        lines.append(f"[goals.{_q(department)}]")
        lines += [f"{key} = {value}" for key, value in goal.items()]
    lines += [
        "",
        "# Public view: cells with fewer than k requests are suppressed; sensitive types get",
        "# no location (no_location) or only city-wide aggregates (aggregate_only).",
        "[privacy]",
        "k = 10",
        "[privacy.sensitive]",
    ]
    lines += [f"{_q(name)} = {_q(tier)}" for name, tier in SENSITIVE.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# Geography: an irregular city outline, Voronoi districts and neighbourhoods, a street grid
# --------------------------------------------------------------------------------------------------


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *keys])))


def km_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local km east/north of the centre -> lon/lat rounded to COORD_DECIMALS (about 10 cm)."""
    lon = np.round(CENTER_LON + x / KM_PER_DEG_LON, COORD_DECIMALS)
    lat = np.round(CENTER_LAT + y / KM_PER_DEG_LAT, COORD_DECIMALS)
    return lon, lat


def _nearest(seeds: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Index of the nearest seed of every point (Euclidean in lon/lat, as the Voronoi cells)."""
    best = np.zeros(len(lon), dtype=np.int16)
    best_d = np.full(len(lon), np.inf)
    for i, (sx, sy) in enumerate(seeds):
        d = (lon - sx) ** 2 + (lat - sy) ** 2
        closer = d < best_d
        best[closer] = i
        best_d = np.where(closer, d, best_d)
    return best


@dataclass(frozen=True)
class _Areas:
    """Voronoi cells clipped to the city: cell i is the part of the city nearest to seeds[i]."""

    key: str
    names: tuple[str, ...]
    seeds: np.ndarray  # (n, 2) lon/lat
    cells: tuple[shapely.Geometry, ...]
    properties: tuple[dict, ...]

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the cell containing each point of the city."""
        return _nearest(self.seeds, lon, lat)

    def write(self, path: Path) -> None:
        features = [
            {"type": "Feature", "properties": {self.key: name, **props},
             "geometry": shapely.geometry.mapping(cell)}
            for name, cell, props in zip(self.names, self.cells, self.properties, strict=True)
        ]
        collection = {"type": "FeatureCollection", "name": path.stem, "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


@dataclass(frozen=True)
class Geography:
    outline: shapely.Polygon  # lon/lat
    town_centres_km: np.ndarray  # (TOWN_CENTRES, 2)
    districts: _Areas
    neighborhoods: _Areas

    def write(self, folder: Path) -> None:
        self.districts.write(folder / "districts.geojson")
        self.neighborhoods.write(folder / "neighborhoods.geojson")


def make_geography(seed: int) -> Geography:
    """The city outline and its districts and neighbourhoods, drawn around where people live."""
    rng = _rng(seed, STREAM_GEOGRAPHY)
    outline = _outline(rng)
    shapely.prepare(outline)
    angle = rng.uniform(0, 2 * np.pi) + np.arange(TOWN_CENTRES) * 2 * np.pi / TOWN_CENTRES
    radius = rng.uniform(4.5, 8.0, TOWN_CENTRES)
    centres = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    where = np.full(RESIDENT_SAMPLE, list(WHERE).index("spread"))  # homes: less central
    _, _, lon, lat, _ = _city_points(rng, where, centres, outline)
    residents = np.column_stack([lon, lat])

    # Council districts hold similar numbers of residents.
    d_seeds = _balanced_seeds(residents, DISTRICTS, rng)
    d_seeds = d_seeds[_district_order(d_seeds)]  # District 1 downtown, then clockwise
    share = np.bincount(_nearest(d_seeds, lon, lat), minlength=DISTRICTS) / RESIDENT_SAMPLE
    districts = _Areas(
        key="district",
        names=tuple(f"District {i + 1}" for i in range(DISTRICTS)),
        seeds=d_seeds,
        cells=_voronoi_cells(d_seeds, outline),
        properties=tuple({"population": int(round(POPULATION * s, -1))} for s in share),
    )
    n_seeds = _kmeans(residents, len(NEIGHBORHOODS), rng, iterations=10)  # sizes vary
    n_seeds = n_seeds[np.argsort(_distance_from_downtown(n_seeds), kind="stable")]
    neighborhoods = _Areas(
        key="neighborhood",
        names=NEIGHBORHOODS,  # Downtown first, then outwards
        seeds=n_seeds,
        cells=_voronoi_cells(n_seeds, outline),
        properties=tuple({} for _ in NEIGHBORHOODS),
    )
    return Geography(outline, centres, districts, neighborhoods)


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """A wobbly, roughly round city about 25 km across."""
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    radius = np.full_like(theta, RADIUS_KM)
    for harmonic, amplitude in ((2, 0.10), (3, 0.08), (5, 0.05), (7, 0.03)):
        radius *= 1 + amplitude * np.sin(harmonic * theta + rng.uniform(0, 2 * np.pi))
    lon, lat = km_to_lonlat(radius * np.cos(theta), radius * np.sin(theta))
    return shapely.Polygon(np.column_stack([lon, lat]))


def _centroids(points: np.ndarray, label: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Mean of the points of each group (a group with no points keeps its seed)."""
    count = np.bincount(label, minlength=len(seeds))[:, None]
    sums = np.column_stack([np.bincount(label, points[:, i], len(seeds)) for i in (0, 1)])
    return np.where(count > 0, sums / np.maximum(count, 1), seeds)


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int) -> np.ndarray:
    """K seeds that split POINTS into compact groups (Lloyd's algorithm)."""
    seeds = points[rng.choice(len(points), k, replace=False)]
    for _ in range(iterations):
        seeds = _centroids(points, _nearest(seeds, points[:, 0], points[:, 1]), seeds)
    return seeds


def _balanced_seeds(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """K seeds whose Voronoi cells hold about equal numbers of POINTS (within about 10%).

    From k-means, each seed drifts towards its more crowded neighbours, taking points from them,
    with a small Lloyd step that keeps the cells compact.
    """
    seeds = _kmeans(points, k, rng, iterations=20)
    for _ in range(150):
        label = _nearest(seeds, points[:, 0], points[:, 1])
        crowding = np.bincount(label, minlength=k) * k / len(points)
        gap = seeds[None, :, :] - seeds[:, None, :]  # gap[i, j] = seed j - seed i
        near = np.argsort((gap**2).sum(axis=2), axis=1)[:, 1:5]
        toward = np.take_along_axis(gap, near[:, :, None], axis=1)
        pull = ((crowding[near] - crowding[:, None])[:, :, None] * toward).mean(axis=1)
        seeds = seeds + 0.5 * pull + 0.05 * (_centroids(points, label, seeds) - seeds)
    return seeds


def _voronoi_cells(seeds: np.ndarray, outline: shapely.Polygon) -> tuple[shapely.Geometry, ...]:
    """The Voronoi cell of every seed (in seed order), clipped to the city outline."""
    diagram = shapely.voronoi_polygons(shapely.MultiPoint(seeds),
                                       extend_to=outline.envelope.buffer(1.0), ordered=True)
    return tuple(_polygonal(cell.intersection(outline)) for cell in diagram.geoms)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    return shapely.MultiPolygon([g for g in geom.geoms if g.geom_type == "Polygon"])


def _distance_from_downtown(lonlat: np.ndarray) -> np.ndarray:
    x = (lonlat[:, 0] - CENTER_LON) * KM_PER_DEG_LON
    y = (lonlat[:, 1] - CENTER_LAT) * KM_PER_DEG_LAT
    return np.hypot(x - DOWNTOWN_KM[0], y - DOWNTOWN_KM[1])


def _district_order(seeds: np.ndarray) -> np.ndarray:
    """District 1 is downtown; the others are numbered clockwise from the north."""
    first = int(np.argmin(_distance_from_downtown(seeds)))
    bearing = np.arctan2(seeds[:, 0] - seeds[first, 0], seeds[:, 1] - seeds[first, 1])
    bearing = np.mod(bearing, 2 * np.pi)
    bearing[first] = -1.0
    return np.argsort(bearing, kind="stable")


def _street_names(base: Sequence[str], suffixes: Sequence[str]) -> list[str]:
    """Unique names for the streets of one direction, indexed by (grid line mod STREET_LINES):
    line 0 through the centre is the first name ("Maple Ave", "Main St")."""
    return [f"{base[k % len(base)]} {suffixes[k // len(base)]}" for k in range(STREET_LINES)]


STREET_LINES = 2 * math.ceil(RADIUS_KM * 1.6 / BLOCK_KM) + 1  # grid lines across the city
STREET_NAMES = _street_names(NS_STREETS, NS_SUFFIXES) + _street_names(EW_STREETS, EW_SUFFIXES)


# --------------------------------------------------------------------------------------------------
# The catalog as arrays, and how many requests each day and type gets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalog:
    """One entry per request type, as numpy arrays indexed by the type code."""

    names: list[str]
    departments: list[str]
    categories: list[str]
    department_code: np.ndarray  # per type, into departments
    category_code: np.ndarray  # per type, into categories
    target_hours: np.ndarray
    per_year: np.ndarray
    season: list[str]
    hours_code: np.ndarray  # into HOURS
    days: list[str]
    where_code: np.ndarray  # into WHERE
    median_hours: np.ndarray  # time to close at pace 1, before department and district factors
    yearly_trend: np.ndarray  # volume trend of each type, on top of the city's growth
    descriptions: list[str]  # DESCRIPTIONS flattened: type code t has 2t and 2t + 1

    @classmethod
    def build(cls, seed: int) -> _Catalog:
        rng = _rng(seed, STREAM_CATALOG)
        entries = [
            (department, category, t)
            for department, categories in CATALOG.items()
            for category, types in categories.items()
            for t in types
        ]
        departments = list(CATALOG)
        categories = list(dict.fromkeys(c for _, c, _ in entries))
        types = [t for _, _, t in entries]
        target = np.array([t.target for t in types], dtype=np.float64)
        return cls(
            names=[t.name for t in types],
            departments=departments,
            categories=categories,
            department_code=np.array([departments.index(d) for d, _, _ in entries]),
            category_code=np.array([categories.index(c) for _, c, _ in entries]),
            target_hours=target,
            per_year=np.array([t.per_year for t in types], dtype=np.float64),
            season=[t.season for t in types],
            hours_code=np.array([list(HOURS).index(RHYTHMS[t.rhythm][0]) for t in types]),
            days=[RHYTHMS[t.rhythm][1] for t in types],
            where_code=np.array([list(WHERE).index(t.where) for t in types]),
            median_hours=target * MEDIAN_TO_TARGET * np.exp(0.2 * rng.standard_normal(len(types))),
            yearly_trend=np.exp(0.04 * rng.standard_normal(len(types))),
            descriptions=[text for t in types for text in DESCRIPTIONS[t.name]],
        )


def _day_count() -> int:
    return int((AS_OF.astype("datetime64[D]") - START).astype(int)) + 1


def _holidays(years: range) -> set[dt.date]:
    """Days the city's offices are closed (treated like a Sunday)."""
    days: set[dt.date] = set()
    for y in years:
        may_31 = dt.date(y, 5, 31)
        sep_1 = dt.date(y, 9, 1)
        nov_1 = dt.date(y, 11, 1)
        days |= {
            dt.date(y, 1, 1), dt.date(y, 7, 4), dt.date(y, 12, 25),
            may_31 - dt.timedelta(days=may_31.weekday()),  # Memorial Day
            sep_1 + dt.timedelta(days=(7 - sep_1.weekday()) % 7),  # Labor Day
            nov_1 + dt.timedelta(days=(3 - nov_1.weekday()) % 7 + 21),  # Thanksgiving
        }
    return days


def _season_curve(monthly: Sequence[float], year_fraction: np.ndarray) -> np.ndarray:
    """Monthly weights as a smooth yearly curve (values at mid-month, wrapped around New Year)."""
    values = np.asarray(monthly, dtype=np.float64)
    values = values / values.mean()
    mid = (np.arange(12) + 0.5) / 12
    return np.interp(year_fraction, np.r_[mid[-1] - 1, mid, mid[0] + 1],
                     np.r_[values[-1], values, values[0]])


def daily_counts(rows: int, seed: int, catalog: _Catalog) -> np.ndarray:
    """Requests per (day, type): a multinomial draw of ROWS over the expected intensities."""
    rng = _rng(seed, STREAM_VOLUME)
    dates = START + np.arange(_day_count())
    date_objs = dates.astype(dt.date)
    holidays = _holidays(range(date_objs[0].year, date_objs[-1].year + 1))
    weekday = np.array([6 if d in holidays else d.weekday() for d in date_objs])
    years = (dates - START).astype(np.float64) / 365.25
    jan_1 = dates.astype("datetime64[Y]").astype("datetime64[D]")
    year_fraction = (dates - jan_1).astype(np.float64) / 365.25
    month_day = [(d.month, d.day) for d in date_objs]

    season_curves = {}
    for name, monthly in SEASONS.items():
        sigma = WEATHER_SIGMA.get(name, WEATHER_SIGMA_DEFAULT)
        weather = np.exp(sigma * rng.standard_normal(len(dates)) - sigma**2 / 2)
        spikes = np.array([SPIKES.get(name, {}).get(md, 1.0) for md in month_day])
        season_curves[name] = _season_curve(monthly, year_fraction) * weather * spikes
    day_shapes = {k: np.asarray(v) / np.mean(v) for k, v in DAYS.items()}

    intensity = np.empty((len(dates), len(catalog.names)))
    for t in range(len(catalog.names)):
        intensity[:, t] = (
            catalog.per_year[t]
            * (YEARLY_GROWTH * catalog.yearly_trend[t]) ** years
            * day_shapes[catalog.days[t]][weekday]
            * season_curves[catalog.season[t]]
        )
    p = intensity.ravel() / intensity.sum()
    return rng.multinomial(rows, p).reshape(intensity.shape)


def chunk_days(day_totals: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """Consecutive day ranges [first, last) of at most CHUNK_ROWS rows (or a single day)."""
    chunks, first, size = [], 0, 0
    for day, count in enumerate(day_totals.tolist()):
        if size and size + count > chunk_rows:
            chunks.append((first, day))
            first, size = day, 0
        size += count
    if size:
        chunks.append((first, len(day_totals)))
    return chunks


# --------------------------------------------------------------------------------------------------
# One chunk of rows
# --------------------------------------------------------------------------------------------------

SECONDS_PER_DAY = 86_400
START_S = int(START.astype("datetime64[s]").astype(np.int64))
AS_OF_S = int(AS_OF.astype("datetime64[s]").astype(np.int64))


def _dst_gaps() -> np.ndarray:
    """Start (local seconds) of each hour the clocks skip in spring: local times that never exist.

    Times are the city's local time, so none may fall in such an hour. (The repeated hour in the
    autumn does exist twice, and stays.) Assumes clocks change at 02:00, as in the US.
    """
    zone = ZoneInfo(TIMEZONE)
    days = (START + np.arange(_day_count())).astype(dt.date)
    noon_offset = [dt.datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset() for d in days]
    gaps = [
        (START + i).astype("datetime64[s]").astype(np.int64) + 2 * 3600
        for i in range(1, len(days))
        if noon_offset[i] > noon_offset[i - 1]
    ]
    return np.array(gaps, dtype=np.int64)


def _skip_dst_gaps(seconds: np.ndarray) -> np.ndarray:
    """Move times inside a skipped hour one hour later, as a clock would show them."""
    for gap in DST_GAPS:
        seconds = np.where((seconds >= gap) & (seconds < gap + 3600), seconds + 3600, seconds)
    return seconds


def _cumulative(weights: np.ndarray) -> np.ndarray:
    """Rows of weights -> rows of cumulative probabilities ending exactly at 1."""
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    return cum


DST_GAPS = _dst_gaps()
HOUR_CUM = _cumulative(np.array(list(HOURS.values())))
WHERE_CUM = _cumulative(np.array(list(WHERE.values())))
CLOSURE_NAMES = ("duplicate", *CLOSURE_SHARES)
CLOSURE_CUM = _cumulative(np.array([list(CLOSURE_SHARES.values())]))[0]


def _draw(rng: np.random.Generator, cum: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Draw one category per row from the row's profile (a row of the cumulative matrix CUM)."""
    n_profiles, n_values = cum.shape
    flat = (cum + np.arange(n_profiles)[:, None]).ravel()
    u = profile + rng.random(len(profile))
    return np.searchsorted(flat, u, side="right") - profile * n_values


def _created_times(rng, counts: np.ndarray, first_day: int, catalog: _Catalog):
    """Day and type of every request, then its creation time (seconds), sorted by time."""
    n_days, n_types = counts.shape
    flat = counts.ravel()
    day = np.repeat(np.repeat(np.arange(first_day, first_day + n_days), n_types), flat)
    rtype = np.repeat(np.tile(np.arange(n_types), n_days), flat)
    hour = _draw(rng, HOUR_CUM, catalog.hours_code[rtype])
    created = (START_S + day.astype(np.int64) * SECONDS_PER_DAY + hour * 3600
               + rng.integers(0, 3600, len(day)))
    created = _skip_dst_gaps(np.minimum(created, AS_OF_S))
    order = np.argsort(created, kind="stable")
    return created[order], rtype[order]


def _channels(rng, created: np.ndarray) -> np.ndarray:
    """Channel codes (index into CHANNELS), drifting from phone toward the app over time."""
    start = np.array([CHANNEL_MIX_START[c] for c in CHANNELS])
    end = np.array([CHANNEL_MIX_END[c] for c in CHANNELS])
    t = ((created - START_S) / (AS_OF_S - START_S))[:, None]
    cum = np.cumsum(start + (end - start) * t, axis=1)
    u = rng.random(len(created))[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1)


def _city_points(rng, where: np.ndarray, centres: np.ndarray, outline: shapely.Polygon):
    """Points on the street grid inside the city: x, y (km), lon, lat, and on_ns_street."""
    n = len(where)
    x, y = np.empty(n), np.empty(n)
    lon, lat = np.empty(n), np.empty(n)
    on_ns_street = np.empty(n, dtype=bool)
    todo = np.arange(n)
    while len(todo):
        px, py = _sample_km(rng, where[todo], centres)
        ns = rng.random(len(todo)) < 0.5
        px = np.where(ns, np.round(px / BLOCK_KM) * BLOCK_KM, px)  # on a north-south street
        py = np.where(ns, py, np.round(py / BLOCK_KM) * BLOCK_KM)  # on an east-west street
        plon, plat = km_to_lonlat(px, py)
        x[todo], y[todo], lon[todo], lat[todo], on_ns_street[todo] = px, py, plon, plat, ns
        todo = todo[~shapely.contains_xy(outline, plon, plat)]
    return x, y, lon, lat, on_ns_street


def _sample_km(rng, where: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate points (km from the centre): near downtown, near a town centre, or anywhere."""
    n = len(where)
    component = _draw(rng, WHERE_CUM, where)
    centre = np.zeros((n, 2))
    centre[component == 0] = DOWNTOWN_KM
    town = rng.integers(0, len(centres), n)
    centre[component == 1] = centres[town[component == 1]]
    sigma = np.where(component == 0, DOWNTOWN_SIGMA_KM, TOWN_CENTRE_SIGMA_KM)
    normal = rng.standard_normal((n, 2)) * sigma[:, None] + centre
    anywhere = rng.uniform(-1.3 * RADIUS_KM, 1.3 * RADIUS_KM, (n, 2))
    points = np.where((component == 2)[:, None], anywhere, normal)
    return points[:, 0], points[:, 1]


def _addresses(rng, x: np.ndarray, y: np.ndarray, on_ns_street: np.ndarray):
    """House number, direction code (DIRECTIONS) and street code (STREET_NAMES) of each point."""
    along = np.where(on_ns_street, y, x)  # distance from the Main St / Maple Ave base lines
    side = rng.integers(0, 2, len(x))  # odd or even side of the street
    number = np.floor(np.abs(along) / BLOCK_KM * 50).astype(np.int64) * 2 + 1 + side
    direction = np.where(on_ns_street, np.where(along >= 0, 0, 1), np.where(along >= 0, 2, 3))
    ns_line = np.mod(np.rint(x / BLOCK_KM).astype(np.int64), STREET_LINES)
    ew_line = np.mod(np.rint(y / BLOCK_KM).astype(np.int64), STREET_LINES)
    street = np.where(on_ns_street, ns_line, STREET_LINES + ew_line)
    return number, direction, street


def _closures(rng, created, rtype, district, catalog: _Catalog):
    """Closure code (index into CLOSURE_NAMES) and closing time (seconds) of every request."""
    n = len(created)
    closure = np.where(rng.random(n) < DUPLICATE_SHARE, 0,
                       1 + np.searchsorted(CLOSURE_CUM, rng.random(n), side="right"))
    dept = catalog.department_code[rtype]
    pace = np.array([DEPARTMENT_PACE[d][0] for d in catalog.departments])[dept]
    trend = np.array([DEPARTMENT_PACE[d][1] for d in catalog.departments])[dept]
    years = (created - START_S) / (365.25 * SECONDS_PER_DAY)
    district_pace = np.array([DISTRICT_PACE.get(f"District {i + 1}", 1.0)
                              for i in range(DISTRICTS)])[district]
    closure_pace = np.array([0.0, *(CLOSURE_PACE[c] for c in CLOSURE_SHARES)])[closure]
    hours = (catalog.median_hours[rtype] * pace * trend**years * district_pace * closure_pace
             * np.exp(CLOSE_SIGMA * rng.standard_normal(n)))
    stuck = rng.random(n) < STUCK_SHARE
    hours = np.where(stuck, hours * np.exp(rng.uniform(2, 5, n)), hours)
    duplicate_hours = np.exp(rng.uniform(np.log(0.1), np.log(48), n))
    hours = np.minimum(np.where(closure == 0, duplicate_hours, hours), 20 * 365 * 24)
    closed = created + (hours * 3600).astype(np.int64)
    # Work that takes days is closed out during the working day (07:00-17:00).
    workday_time = rng.integers(7 * 3600, 17 * 3600, n)
    closed = np.where(hours > 36, closed // SECONDS_PER_DAY * SECONDS_PER_DAY + workday_time,
                      closed)
    return closure, _skip_dst_gaps(closed)


def hostile_period(rows: int) -> int:
    """One description in this many is hostile: 1 in 20,000, and at least 8 in any build."""
    return max(1, min(20_000, rows // 8))


def _descriptions(rng, rtype, channel, seq, period: int):
    """Codes for the description's prefix, body (-1: no text) and suffix, and hostile text."""
    n = len(rtype)
    no_text = rng.random(n) < np.array([NO_TEXT_SHARE[c] for c in CHANNELS])[channel]
    body = np.where(no_text, -1, rtype * 2 + rng.integers(0, 2, n))
    prefix = rng.integers(0, len(DESCRIPTION_PREFIXES), n)
    suffix = rng.integers(0, len(DESCRIPTION_SUFFIXES), n)
    hostile = np.where(seq % period == period // 2, (seq // period) % len(HOSTILE_DESCRIPTIONS), -1)
    return prefix, body, suffix, hostile


# All closing notes in one list: the departments' notes for resolved requests, two per department
# in catalog order, then the notes of each other closure (starting at CLOSURE_NOTE_OFFSET[closure]).
RESOLUTION_TEXTS = [note for d in CATALOG for note in RESOLUTION_NOTES[d]]
CLOSURE_NOTE_OFFSET = {
    name: len(RESOLUTION_TEXTS) + sum(len(n) for n in list(CLOSURE_NOTES.values())[:i])
    for i, name in enumerate(CLOSURE_NOTES)
}
RESOLUTION_TEXTS += [note for notes in CLOSURE_NOTES.values() for note in notes]


def _resolutions(rng, closure, dept, is_open):
    """Code of each closing note in RESOLUTION_TEXTS (-1 while open)."""
    pick = rng.integers(0, 2, len(closure))
    code = dept * 2 + pick  # resolved
    for c, name in enumerate(CLOSURE_NAMES):
        if name in CLOSURE_NOTES:
            choice = CLOSURE_NOTE_OFFSET[name] + pick % len(CLOSURE_NOTES[name])
            code = np.where(closure == c, choice, code)
    return np.where(is_open, -1, code)


def _dictionary(codes: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
    """Codes into VALUES as an Arrow dictionary column (code -1 is NULL)."""
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


def _timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), mask=null)


def _make_chunk(rng, counts, first_day, first_seq, rows, catalog: _Catalog, geo: Geography):
    """All columns of one chunk, as an Arrow table of codes and numbers."""
    created, rtype = _created_times(rng, counts, first_day, catalog)
    n = len(created)
    seq = first_seq + 1 + np.arange(n, dtype=np.int64)
    channel = _channels(rng, created)
    x, y, lon, lat, on_ns_street = _city_points(rng, catalog.where_code[rtype],
                                                geo.town_centres_km, geo.outline)
    number, direction, street = _addresses(rng, x, y, on_ns_street)
    district = geo.districts.assign(lon, lat)
    neighborhood = geo.neighborhoods.assign(lon, lat)
    closure, closed = _closures(rng, created, rtype, district, catalog)
    is_open = closed > AS_OF_S
    waiting = created + (rng.random(n) * (AS_OF_S - created)).astype(np.int64)
    updated = np.where(is_open, _skip_dst_gaps(waiting), closed)
    due = _skip_dst_gaps(created + (catalog.target_hours[rtype] * 3600).astype(np.int64))
    dept = catalog.department_code[rtype]
    prefix, body, suffix, hostile = _descriptions(rng, rtype, channel, seq, hostile_period(rows))
    return pa.table({
        "seq": seq,
        "created_at": _timestamps(created),
        "updated_at": _timestamps(updated),
        "closed_at": _timestamps(closed, is_open),
        "due_at": _timestamps(due),
        "status": _dictionary(is_open.astype(np.int8), ("closed", "open")),
        "closure": _dictionary(np.where(is_open, -1, closure), CLOSURE_NAMES),
        "department": _dictionary(dept, catalog.departments),
        "request_type": _dictionary(rtype, catalog.names),
        "category": _dictionary(catalog.category_code[rtype], catalog.categories),
        "channel": _dictionary(channel, CHANNELS),
        "district": _dictionary(district, geo.districts.names),
        "neighborhood": _dictionary(neighborhood, geo.neighborhoods.names),
        "lat": lat,
        "lon": lon,
        "address_number": number,
        "address_direction": _dictionary(direction, DIRECTIONS),
        "address_street": _dictionary(street, STREET_NAMES),
        "description_prefix": _dictionary(prefix, DESCRIPTION_PREFIXES),
        "description_body": _dictionary(body, catalog.descriptions),
        "description_suffix": _dictionary(suffix, DESCRIPTION_SUFFIXES),
        "description_hostile": _dictionary(hostile, HOSTILE_DESCRIPTIONS),
        "resolution": _dictionary(_resolutions(rng, closure, dept, is_open), RESOLUTION_TEXTS),
    })


# --------------------------------------------------------------------------------------------------
# Writing to the store
# --------------------------------------------------------------------------------------------------

INSERT_CHUNK_SQL = """
insert into requests by name
select
    'RIV-' || lpad(seq::varchar, $width, '0') as request_id,
    created_at, updated_at, closed_at, due_at, status, closure,
    department, request_type, category, channel, district, neighborhood, lat, lon,
    address_number::varchar || ' ' || address_direction || ' ' || address_street as address,
    coalesce(description_hostile,
             description_prefix || description_body || description_suffix) as description,
    resolution,
    'demo' as source,
    null as flags,
    $run_id as run_id
from demo_chunk
order by seq
"""

RECORD_RUN_SQL = """
insert into ingest_runs (run_id, started_at, finished_at, source, files, count_read,
    count_inserted, count_updated, count_unchanged, count_rejected, rejected_by_reason)
values ($run_id, $started_at, $finished_at, 'demo', [$description], $rows, $rows, 0, 0, 0, '{}')
"""


def _insert_chunk(con, table: pa.Table, rows: int) -> None:
    con.register("demo_chunk", table)
    try:
        con.execute(INSERT_CHUNK_SQL, {"width": max(8, len(str(rows))), "run_id": RUN_ID})
    finally:
        con.unregister("demo_chunk")


def _record_run(con, started: dt.datetime, rows: int, seed: int) -> None:
    con.execute(RECORD_RUN_SQL, {
        "run_id": RUN_ID,
        "started_at": started,
        "finished_at": dt.datetime.now().replace(microsecond=0),
        "description": f"demo city {CITY_NAME}: rows={rows} seed={seed}",
        "rows": rows,
    })
