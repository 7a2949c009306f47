"""Formatting results: one adapter's transports, or the whole adapters x servers matrix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["OUTCOMES", "format_matrix", "load_reports", "report"]

OUTCOMES = ("passed", "failed", "skipped", "xfailed")


def report(adapter: str, rows: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """The JSON document one run writes with ``--pyfly-ws-report``."""
    from . import SUITE_VERSION
    from .registry import CASES

    return {"suite_version": SUITE_VERSION, "cases": len(CASES), "adapter": adapter, "transports": rows}


def load_reports(paths: Iterable[Path]) -> dict[str, dict[str, dict[str, int]]]:
    """Merge report files into ``{adapter: {transport: {outcome: count}}}``."""
    merged: dict[str, dict[str, dict[str, int]]] = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        merged.setdefault(data["adapter"], {}).update(data["transports"])
    return merged


def format_matrix(results: Mapping[str, Mapping[str, Mapping[str, int]]]) -> str:
    """A table: one row per adapter and transport, one column per outcome."""
    header = ("adapter", "transport", *OUTCOMES)
    rows = [
        (adapter, transport, *(str(counts.get(outcome, 0)) for outcome in OUTCOMES))
        for adapter, transports in results.items()
        for transport, counts in transports.items()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)
