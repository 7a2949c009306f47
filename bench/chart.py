"""The PNG chart of a run: pyfly-ws relative to its counterpart, one panel per server, plus memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ADAPTER_COLOURS = {"asgi": "#4c72b0", "starlette": "#55a868", "litestar": "#c44e52", "quart": "#8172b2"}


def _goodness(row: dict[str, Any]) -> float:
    """1.0 is parity, above is better: throughput ratios as they are, latency ratios inverted."""
    return float(row["compare"]) if row["way"] == "higher" else 1 / float(row["compare"])


def draw(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Bars of pyfly-ws / its counterpart (hand-written; raw ASGI for ``asgi``) per figure, and extra bytes per idle connection."""  # noqa: E501
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    own = [row for row in rows if row["against"] != "hand-starlette" or row["adapter"] == "starlette"]
    servers = list(dict.fromkeys(row["server"] for row in own))
    adapters = list(dict.fromkeys(row["adapter"] for row in own))
    ratios = [row for row in own if row["way"] != "extra"]
    labels = list(dict.fromkeys(f"{row['figure']} {row['metric']}" for row in ratios))
    memory = [row for row in own if row["way"] == "extra"]
    fig, axes = plt.subplots(len(servers) + 1, 1, figsize=(max(10, len(labels) * 0.7), 3.2 * (len(servers) + 1)))
    width = 0.8 / max(1, len(adapters))
    for ax, server in zip(axes, servers, strict=False):
        for i, adapter in enumerate(adapters):
            mine = {
                f"{r['figure']} {r['metric']}": _goodness(r)
                for r in ratios
                if (r["server"], r["adapter"]) == (server, adapter)
            }
            xs = [n + i * width for n, label in enumerate(labels) if label in mine]
            ax.bar(
                xs,
                [mine[label] for label in labels if label in mine],
                width,
                label=adapter,
                color=ADAPTER_COLOURS.get(adapter),
            )
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axhline(0.97, color="grey", linestyle="--", linewidth=0.8)
        ax.set_ylim(0.5, 1.3)
        ax.set_title(
            f"{server}: pyfly-ws relative to hand-written (raw ASGI for asgi); higher is better, dashed = 0.97"
        )
        ax.set_xticks(
            [n + width * (len(adapters) - 1) / 2 for n in range(len(labels))],
            labels,
            rotation=30,
            ha="right",
            fontsize=7,
        )
        ax.legend(fontsize=7, ncol=len(adapters))
    ax = axes[-1]
    for i, adapter in enumerate(adapters):
        mine = {r["server"]: r["compare"] for r in memory if r["adapter"] == adapter}
        ax.bar(
            [n + i * width for n, s in enumerate(servers) if s in mine],
            [mine[s] for s in servers if s in mine],
            width,
            label=adapter,
            color=ADAPTER_COLOURS.get(adapter),
        )
    ax.axhline(2048, color="grey", linestyle="--", linewidth=0.8)
    ax.set_title("extra bytes per idle connection over the counterpart; dashed = 2 KiB budget")
    ax.set_xticks([n + width * (len(adapters) - 1) / 2 for n in range(len(servers))], servers, fontsize=8)
    ax.legend(fontsize=7, ncol=len(adapters))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
