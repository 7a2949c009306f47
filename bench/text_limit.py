"""How far a text-message API can go on picows: the native transport beside the least such an API costs.

    python -m bench.text_limit [--rounds 12] [--window 0.25] [--out bench/results/text_limit]

Rows, all started at once on CPU 0 and measured by one ``bench.load`` process on
CPU 1 in interleaved windows, as in :mod:`bench.headline`:

- ``raw ASGI``: the raw ASGI echo on uvicorn (``websockets-sansio``), the base of every ratio;
- ``pyfly-ws native``: the pyfly-ws echo controller on the native transport;
- ``picows str, in a task``: each text message decoded and sent back as ``str`` by a task of the
  connection's own (:mod:`bench.targets.picows_text`, ``--way task``);
- ``picows str, in the callback``: the same with no task: decoded and sent back inside picows's callback;
- ``raw picows``: the frame's bytes sent back unchecked (:mod:`bench.targets.picows_raw`).

Each step down the list does less than the one before: the two ``picows str``
rows are what the UTF-8 check of a text message, and a coroutine per session,
cost by themselves, with nothing of pyfly-ws; whatever pyfly-ws adds is between
the first of them and ``pyfly-ws native``.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pyfly_ws_conformance.servers import Served

from . import run
from .headline import footer, main_of, median, picows_process, ratio

ROWS = ("raw ASGI", "pyfly-ws native", "picows str, in a task", "picows str, in the callback", "raw picows")
BASE = "raw ASGI"
ECHO = [(clients, size) for size in (32, 16384) for clients in (10, 100)]


def _serve(stack: ExitStack, row: str) -> Served:
    if row == "raw ASGI":
        return run._serve(stack, "uvicorn-sansio", "raw")
    if row == "pyfly-ws native":
        return run._serve(stack, "picows", "pyfly-asgi")
    if row == "raw picows":
        return stack.enter_context(picows_process("bench.targets.picows_raw"))
    way = "task" if "task" in row else "callback"
    return stack.enter_context(picows_process("bench.targets.picows_text", "--way", way))


def _label(row: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in row)


def measure(rounds: int, window: float, warmup: float, log: Any = print) -> dict[str, Any]:
    """``{row: {figure: [sample, ...]}}`` for every row and echo figure."""
    samples: dict[str, dict[str, list[dict[str, float]]]] = {row: {} for row in ROWS}
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {run.SERVER_CPU})
    try:
        with ExitStack() as stack:
            served = {row: _serve(stack, row) for row in ROWS}
            names = [f"{_label(row)}={served[row].url}@{served[row].pid}" for row in ROWS]
            run._client("echo", *names, "--clients", "10", "--rounds", "1", "--window", "0.2")  # all warmed alike
            for clients, size in ECHO:
                figure = f"echo {clients}c {size}B"
                args = ["echo", "--clients", str(clients), "--size", str(size), "--warmup", str(warmup)]
                by_label = run._client(*args, *names, "--rounds", str(rounds), "--window", str(window))
                for row in ROWS:
                    samples[row][figure] = by_label[_label(row)]
                log(f"{figure} measured")
    finally:
        os.sched_setaffinity(0, mask)
    return {"plan": {"rounds": rounds, "window": window, "warmup": warmup}, "samples": samples}


def table(data: dict[str, Any], command: str) -> str:
    """Round trips per second per row and figure, each with the median per-window ratio to raw ASGI."""
    samples = data["samples"]
    figures = [f"echo {clients}c {size}B" for clients, size in ECHO]
    lines = ["| | " + " | ".join(figures) + " |", "|" + " --- |" * (len(figures) + 1)]
    for row in ROWS:
        cells = [row]
        for figure in figures:
            rate = median(samples[row][figure], "rate")
            cells.append(f"{rate:,.0f} ({ratio(samples[row], samples[BASE], figure):.2f}x)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + footer(command, data["plan"])) + "\n"


def main(argv: list[str] | None = None) -> None:
    def measured(args: argparse.Namespace) -> dict[str, Any]:
        return measure(args.rounds, args.window, args.warmup, log=lambda line: print(line, flush=True))

    main_of("text_limit", __doc__ or "", Path("bench/results/text_limit"), measured, table, argv)


if __name__ == "__main__":
    main()
