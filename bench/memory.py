"""Peak memory of a process: VmHWM (peak resident set) from /proc."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident set size so far, in MB."""
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid: int | str = "self") -> float:
    """The process's resident set size now, in MB."""
    return _status_kb(pid, "VmRSS") / 1024


def _status_kb(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise ValueError(f"{field} not in /proc/{pid}/status")
