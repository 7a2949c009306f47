"""Formatting results: one adapter's transports, or the whole adapters x servers matrix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["OUTCOMES", "format_grid", "format_matrix", "load_reports", "main", "report"]

OUTCOMES = ("passed", "failed", "skipped", "xfailed")


def report(adapter: str, rows: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """The JSON document one run writes with ``--pyfly-ws-report``."""
    from . import CASES, SUITE_VERSION

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


def format_grid(results: Mapping[str, Mapping[str, Mapping[str, int]]]) -> str:
    """Adapters as rows, transports as columns; each cell ``passed/skipped/xfailed``, plus ``!N`` failures."""
    from .runner import IN_PROCESS
    from .servers import SERVERS

    order = [*IN_PROCESS, *SERVERS]
    transports: list[str] = []
    for per_adapter in results.values():
        transports += [t for t in per_adapter if t not in transports]
    transports.sort(key=lambda t: order.index(t) if t in order else len(order))

    def cell(counts: Mapping[str, int] | None) -> str:
        if counts is None:
            return "-"
        text = f"{counts.get('passed', 0)}/{counts.get('skipped', 0)}/{counts.get('xfailed', 0)}"
        return f"{text} !{counts['failed']}" if counts.get("failed") else text

    header = ["adapter", *transports]
    rows = [[adapter, *(cell(per.get(t)) for t in transports)] for adapter, per in results.items()]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    return "\n".join([*lines, "", "cells: passed/skipped/xfailed; !N marks N failures"])


def main(argv: list[str] | None = None) -> int:
    """``python -m pyfly_ws_conformance.matrix DIR``: print the grid of every report in DIR; 1 if any failed."""
    import sys

    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    results = load_reports(sorted(folder.glob("*.json")))
    print(format_grid(results))
    failed = sum(c.get("failed", 0) for per in results.values() for c in per.values())
    return 1 if failed or not results else 0


if __name__ == "__main__":
    raise SystemExit(main())
