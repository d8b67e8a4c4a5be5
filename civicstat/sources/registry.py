"""Which adapter reads which `--source` format."""

from __future__ import annotations

import importlib

from civicstat.sources.base import Adapter, InputError

# format name -> module defining ADAPTER (an object following sources.base.Adapter)
FORMATS: dict[str, str] = {
    "nyc": "civicstat.sources.nyc",
    "boston": "civicstat.sources.boston",
    "sf": "civicstat.sources.sf",
    "chicago": "civicstat.sources.chicago",
    "la": "civicstat.sources.la",
    "open311": "civicstat.sources.open311",
}


def get_adapter(name: str) -> Adapter:
    """The adapter for a format name; InputError naming the known formats otherwise."""
    module = FORMATS.get(name)
    if module is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"unknown source format {name!r}; known formats: {known} (or --mapping)")
    return importlib.import_module(module).ADAPTER
