"""Which adapter reads which `--source` format."""

from __future__ import annotations

import importlib

from civicstat.ingest.sources.base import Adapter, InputError

# format name -> module defining ADAPTER (an object following sources.base.Adapter)
FORMATS: dict[str, str] = {
    "nyc": "civicstat.ingest.sources.nyc",
    "boston": "civicstat.ingest.sources.boston",
    "sf": "civicstat.ingest.sources.sf",
    "chicago": "civicstat.ingest.sources.chicago",
    "la": "civicstat.ingest.sources.la",
    "open311": "civicstat.ingest.sources.open311",
}


def get_adapter(name: str) -> Adapter:
    """The adapter for a format name; InputError naming the known formats otherwise."""
    module = FORMATS.get(name)
    if module is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"unknown source format {name!r}; known formats: {known} (or --mapping)")
    return importlib.import_module(module).ADAPTER
