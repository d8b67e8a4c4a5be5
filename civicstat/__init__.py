"""CivicStat: a performance dashboard for a city's 311 service requests."""

__version__ = "0.1.0"
