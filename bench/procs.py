"""What a server process group costs: resident memory and CPU time, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def _group(pgid: int) -> list[Path]:
    """The ``/proc/PID`` folders of every live process in process group ``pgid`` (a server and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            if int(fields[2]) == pgid:
                found.append(entry)
    return found


def rss(pgid: int) -> int:
    """Bytes resident in memory, summed over the process group."""
    total = 0
    for entry in _group(pgid):
        try:
            total += int((entry / "statm").read_text().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def cpu_seconds(pgid: int) -> float:
    """User plus system CPU seconds spent so far by the live processes of the group."""
    total = 0
    for entry in _group(pgid):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICK
