"""A one-line progress bar on stderr for long commands (demo, ingest, publish)."""

from __future__ import annotations

import sys
import time


def progress_bar(label: str):
    """A one-line progress bar on stderr: callback(done, total)."""
    started = time.monotonic()

    def update(done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * 30)
        elapsed = time.monotonic() - started
        sys.stderr.write(
            f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} "
            f"({share:.0%}, {elapsed:.0f} s)"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return update
