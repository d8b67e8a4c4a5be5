"""Errors every layer may raise and the command line reports on one line."""

from __future__ import annotations


class InputError(ValueError):
    """The input cannot be used at all (unknown format, missing required columns, a bad boundary
    file...). The CLI prints its message on one line and exits with status 2."""
