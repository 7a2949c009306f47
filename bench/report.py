"""Summaries of a run: medians per figure, ratios pyfly-ws / hand-written, the budget, JSON and a PNG chart."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .run import Results
from .targets import HAND, TYPED_ADAPTERS, TYPED_HAND

METRICS = {
    "echo": [("rate", "higher"), ("p50_ms", "lower"), ("p99_ms", "lower")],
    "typed echo": [("rate", "higher"), ("p50_ms", "lower"), ("p99_ms", "lower")],
    "connect": [("rate", "higher")],
    "idle memory": [("bytes_per_connection", "extra")],
    "broadcast memory": [("median_ms", "lower")],
    "broadcast redis": [("median_ms", "lower")],
}
"""For each kind of figure, the metrics compared and which way is better."""

RULES: dict[str, list[tuple[str, dict[str, float]]]] = {
    "asgi": [
        ("raw", {"higher": 0.95, "lower": 1 / 0.95, "extra": 2048.0}),
        ("hand-starlette", {"higher": 1.0, "lower": 1.0}),
    ],
    **{
        adapter: [(HAND[adapter], {"higher": 0.97, "lower": 1.03, "extra": 2048.0})]
        for adapter in ("starlette", "litestar", "quart")
    },
}
"""The budget, per adapter: what its pyfly-ws endpoint is compared with, and the limit for each way.

Every adapter reaches at least 97% of its framework's hand-written throughput, at most 103%
of its latency and at most 2 KiB more memory per idle connection. The ``asgi`` adapter's
hand-written counterpart is the raw ASGI app, at 95% (latency at most 1/0.95 of raw), and it
must also beat hand-written Starlette (ratio above 1 for throughput, below 1 for latency)."""

TYPED_RULES: dict[str, list[tuple[str, dict[str, float]]]] = {
    adapter: [(TYPED_HAND[adapter], {"higher": 0.95, "lower": 1 / 0.95})] for adapter in TYPED_ADAPTERS
}
"""The typed echo's budget: message-level controllers (``msg-pyfly-ADAPTER``) reach at least 95% of the
throughput of the same parsing, dispatch and validation written by hand on the same framework, at most
1/0.95 of its latency."""

PACKAGES = (
    "pyfly-ws",
    "uvicorn",
    "websockets",
    "wsproto",
    "hypercorn",
    "granian",
    "starlette",
    "litestar",
    "quart",
    "uvloop",
    "httptools",
    "picows",
    "redis",
    "pydantic",
    "msgspec",
)


def _kind(figure: str) -> str:
    return next(kind for kind in METRICS if figure.startswith(kind))


def medians(results: Results) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """server -> target -> figure -> metric -> median over the repetitions."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for server, targets in results.samples.items():
        for target, figures in targets.items():
            for figure, samples in figures.items():
                out.setdefault(server, {}).setdefault(target, {})[figure] = {
                    metric: statistics.median(sample[metric] for sample in samples) for metric in samples[0]
                }
    return out


def paired_ratio(mine: list[float], theirs: list[float]) -> float:
    """The median of the ratios of samples taken in the same round, or of the medians when unpaired.

    The machine's speed drifts from second to second; a pyfly-ws window and its
    counterpart's window in the same round are measured moments apart, so
    their ratio is steadier than the ratio of two medians.
    """
    if len(mine) == len(theirs) and all(theirs):
        return statistics.median(m / t for m, t in zip(mine, theirs, strict=True))
    other = statistics.median(theirs)
    return statistics.median(mine) / other if other else float("nan")


def _verdict(way: str, pyfly: list[float], other: list[float], limit: float) -> tuple[float, bool]:
    """The comparison figure (a ratio, or extra bytes) and whether it is within ``limit``."""
    if way == "extra":
        extra = statistics.median(pyfly) - statistics.median(other)
        return extra, extra <= limit
    ratio = paired_ratio(pyfly, other)
    return ratio, (ratio >= limit) if way == "higher" else (ratio <= limit)


def _pairs(adapters: tuple[str, ...]) -> list[tuple[str, str, list[tuple[str, dict[str, float]]]]]:
    """``(adapter, pyfly-ws target, its counterparts and limits)`` for every comparison the report makes."""
    pairs = [(adapter, f"pyfly-{adapter}", RULES[adapter]) for adapter in adapters]
    pairs += [(a, f"msg-pyfly-{a}", TYPED_RULES[a]) for a in TYPED_ADAPTERS if a in adapters]
    return pairs


def comparisons(results: Results) -> list[dict[str, Any]]:
    """One row per server, adapter, figure, metric and counterpart: pyfly-ws against its budget."""
    table = medians(results)
    rows: list[dict[str, Any]] = []
    for server, targets in results.samples.items():
        for adapter, pyfly, rules in _pairs(results.plan.adapters):
            for figure, samples in targets.get(pyfly, {}).items():
                for metric, way in METRICS[_kind(figure)]:
                    for other_target, limits in rules:
                        theirs = targets.get(other_target, {}).get(figure)
                        if not theirs or way not in limits:
                            continue
                        mine = [sample[metric] for sample in samples]
                        value, within = _verdict(way, mine, [sample[metric] for sample in theirs], limits[way])
                        rows.append(
                            {
                                "server": server,
                                "adapter": adapter,
                                "figure": figure,
                                "metric": metric,
                                "against": other_target,
                                "pyfly": table[server][pyfly][figure][metric],
                                "other": table[server][other_target][figure][metric],
                                "compare": value,
                                "limit": limits[way],
                                "way": way,
                                "within": within,
                            }
                        )
    return rows


def versions() -> dict[str, str]:
    """The interpreter, the machine and every package that shapes the figures."""
    found = {"python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _format(metric: str, value: float) -> str:
    if metric == "rate":
        return f"{value:,.0f}/s"
    if metric.endswith("_ms"):
        return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    return f"{value:,.0f} B"


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the comparisons, one line each, marking what misses the budget."""
    lines = [
        "| server | adapter | figure | metric | pyfly-ws | against | theirs | pyfly-ws / theirs | budget |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["way"] == "extra":
            compare, budget = f"{row['compare']:+,.0f} B", f"≤ {row['limit']:+,.0f} B"
        else:
            compare = f"{row['compare']:.3f}"
            budget = f"≥ {row['limit']:.2f}" if row["way"] == "higher" else f"≤ {row['limit']:.2f}"
        mark = "" if row["within"] else " **missed**"
        lines.append(
            f"| {row['server']} | {row['adapter']} | {row['figure']} | {row['metric']} | "
            f"{_format(row['metric'], row['pyfly'])} | {row['against']} | {_format(row['metric'], row['other'])} | "
            f"{compare}{mark} | {budget} |"
        )
    return "\n".join(lines)


def matrix(rows: list[dict[str, Any]], metrics: tuple[str, ...] | None = None) -> str:
    """The comparisons as a Markdown matrix: one line per adapter, figure and metric, one column per server.

    A ratio (or, for memory, extra bytes per connection) outside the budget is in bold.
    """
    servers = list(dict.fromkeys(row["server"] for row in rows))
    lines = [
        f"| adapter | against | figure | {' | '.join(servers)} | budget |",
        f"|---|---|---|{'---|' * len(servers)}---|",
    ]
    cells: dict[tuple[str, str, str, str], dict[str, str]] = {}
    budgets: dict[tuple[str, str, str, str], str] = {}
    for row in rows:
        if metrics is not None and row["metric"] not in metrics:
            continue
        key = (row["adapter"], row["against"], row["figure"], row["metric"])
        if row["way"] == "extra":
            text, budgets[key] = f"{row['compare']:+,.0f} B", f"≤ {row['limit']:+,.0f} B"
        else:
            text = f"{row['compare']:.3f}"
            budgets[key] = f"≥ {row['limit']:.2f}" if row["way"] == "higher" else f"≤ {row['limit']:.2f}"
        cells.setdefault(key, {})[row["server"]] = text if row["within"] else f"**{text}**"
    for key, by_server in cells.items():
        adapter, against, figure, metric = key
        label = figure if metric in ("rate", "bytes_per_connection", "median_ms") else f"{figure} {metric}"
        values = " | ".join(by_server.get(server, "-") for server in servers)
        lines.append(f"| {adapter} | {against} | {label} | {values} | {budgets[key]} |")
    return "\n".join(lines)


def write(results: Results, folder: Path, command: str) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and ``results.png`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = comparisons(results)
    found = versions()
    document = {
        "command": command,
        "versions": found,
        "plan": asdict(results.plan),
        "budget": {adapter: dict(rules) for adapter, rules in RULES.items()},
        "typed budget": {adapter: dict(rules) for adapter, rules in TYPED_RULES.items()},
        "medians": medians(results),
        "comparisons": rows,
        "samples": results.samples,
    }
    paths = {"json": folder / "results.json", "markdown": folder / "results.md", "png": folder / "results.png"}
    paths["json"].write_text(json.dumps(document, indent=1))
    within = sum(row["within"] for row in rows)
    heading = f"`{command}`: {within} of {len(rows)} comparisons within the budget.\n\n"
    versions_line = ", ".join(f"{name} {version}" for name, version in found.items())
    paths["markdown"].write_text(
        f"{heading}Ratios pyfly-ws / counterpart (latency: lower is better; memory: extra bytes per idle "
        f"connection):\n\n{matrix(rows)}\n\nEvery figure, as medians:\n\n{table(rows)}\n\n"
        f"Versions: {versions_line}\n"
    )
    from .chart import draw

    draw(rows, paths["png"], title=command)
    return paths
