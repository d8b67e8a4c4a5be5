"""CivicStat: a performance dashboard for a city's 311 service requests.

The packages are layers (docs/architecture.md): core, serve, web; ingest, publish, exports;
accounts; cli and demo on top.
"""

from pathlib import Path

__version__ = "0.1.0"

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The checkout: queries/, views/ and data/ live here beside the civicstat package."""
