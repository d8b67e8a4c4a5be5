"""Errors every layer may raise and the command line reports on one line."""

from __future__ import annotations


class InputError(ValueError):
    """The input cannot be used at all (unknown format, missing required columns, a bad boundary
    file...). The CLI prints its message on one line and exits with status 2."""


def store_busy(path: object, error: Exception) -> InputError:
    """The one message for a store another process holds (an ingest writing to it): DuckDB lets
    one process write a file, or many read it, not both."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return InputError(f"cannot open {path}: another ingest is using it; run this again when it "
                      f"has finished ({detail})")
