"""Errors every layer may raise and the command line reports on one line."""

from __future__ import annotations

import re


class InputError(ValueError):
    """The input cannot be used at all (unknown format, missing required columns, a bad boundary
    file...). The CLI prints its message on one line and exits with status 2."""


def store_busy(path: object, error: Exception) -> InputError:
    """The one message for a store another process holds (an ingest writing to it): DuckDB lets
    one process write a file, or many read it, not both."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return InputError(f"cannot open {path}: another ingest is using it; run this again when it "
                      f"has finished ({detail})")


EXCERPT_CHARS = 60  # how much of a value from a file an error message may quote
MESSAGE_CHARS = 300  # the longest one-line error the command line prints
_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)?")


def printable(text: object) -> str:
    """TEXT with terminal escape sequences removed and every other unprintable character
    (control codes, NUL, line breaks) as one space: safe to print on a terminal, on one line."""
    text = _ESCAPE.sub("", str(text))
    return "".join(ch if ch.isprintable() else " " for ch in text)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short printable excerpt of a value read from a file, for an error message: the one
    sanitiser every message quoting file content goes through."""
    text = printable(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(message: object) -> str:
    """An error message as the command line prints it: printable, one line, cut to length."""
    return excerpt(" ".join(printable(message).split()), MESSAGE_CHARS)
