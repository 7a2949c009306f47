"""The README's lead table: every way of serving the benchmark's echo, in one interleaved run.

    python -m bench.headline [--rounds 12] [--window 0.25] [--out bench/results/headline]

Rows, all started at once on CPU 0 and measured by one ``bench.load`` process on
CPU 1, window by window in turning order (see :mod:`bench.run`):

- ``raw ASGI``: the raw ASGI echo on uvicorn (``websockets-sansio``, uvloop, httptools);
- ``hand-starlette``, ``hand-litestar``, ``hand-quart``: the framework's own WebSocket endpoint, on uvicorn;
- ``pyfly-ws asgi`` ... ``pyfly-ws quart``: the pyfly-ws echo controller on each adapter, on uvicorn;
- ``pyfly-ws native``: the same controller on the native transport (``pyfly-ws run --server picows``);
- ``raw picows``: the echo written directly on picows (:mod:`bench.targets.picows_raw`), the limit.

Figures: round trips per second of closed-loop clients (10 and 100 clients,
32 B and 16 KiB) with their p50 and p99 latency, connections per second (each
opening, one echo, closing), and server memory per idle connection. Each
figure is a median over the rounds, and each row's throughput is also given as
a ratio to ``raw ASGI`` from the same windows.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pyfly_ws_conformance.servers import Served, free_port

from . import run
from .report import versions

ROWS: tuple[tuple[str, str, str], ...] = (
    ("raw ASGI", "uvicorn-sansio", "raw"),
    ("hand-starlette", "uvicorn-sansio", "hand-starlette"),
    ("hand-litestar", "uvicorn-sansio", "hand-litestar"),
    ("hand-quart", "uvicorn-sansio", "hand-quart"),
    ("pyfly-ws asgi", "uvicorn-sansio", "pyfly-asgi"),
    ("pyfly-ws starlette", "uvicorn-sansio", "pyfly-starlette"),
    ("pyfly-ws litestar", "uvicorn-sansio", "pyfly-litestar"),
    ("pyfly-ws quart", "uvicorn-sansio", "pyfly-quart"),
    ("pyfly-ws native", "picows", "pyfly-asgi"),
    ("raw picows", "", ""),
)
"""(row, server, bench target): the raw picows row is a process of its own, not a served target."""

ECHO = [(clients, size) for size in (32, 16384) for clients in (10, 100)]
BASE = "raw ASGI"


@contextmanager
def picows_process(module: str, *args: str) -> Iterator[Served]:
    """A picows echo of ``bench.targets`` (``module``) on a free port, in a process group of its own (for its
    memory and CPU)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        cwd=run.ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} {' '.join(args)} did not start") from None
                time.sleep(0.05)
        yield Served(f"ws://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(10)


def _label(row: str) -> str:
    return row.replace(" ", "_")


def measure(rounds: int, window: float, warmup: float, idle_count: int, log: Any = print) -> dict[str, Any]:
    """Every figure for every row; returns ``{row: {figure: [sample, ...]}}`` with the plan."""
    samples: dict[str, dict[str, list[dict[str, float]]]] = {row: {} for row, _, _ in ROWS}
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {run.SERVER_CPU})
    try:
        with ExitStack() as stack:
            served: dict[str, Served] = {}
            for row, server, target in ROWS:
                served[row] = (
                    stack.enter_context(picows_process("bench.targets.picows_raw"))
                    if not server
                    else run._serve(stack, server, target)
                )
            names = [f"{_label(row)}={served[row].url}@{served[row].pid}" for row, _, _ in ROWS]
            run._client("echo", *names, "--clients", "10", "--rounds", "1", "--window", "0.2")  # all warmed alike
            for row, _, _ in ROWS:
                samples[row]["idle memory"] = [run._idle_memory(served[row], idle_count)]
                log(f"{row}: idle memory measured")
            timing = ["--rounds", str(rounds), "--window", str(window)]
            figures = [
                (f"echo {c}c {s}B", ["echo", "--clients", str(c), "--size", str(s), "--warmup", str(warmup)])
                for c, s in ECHO
            ]
            figures.append(("connect", ["connect", "--concurrency", "10"]))
            for figure, args in figures:
                by_label = run._client(*args, *names, *timing)
                for row, _, _ in ROWS:
                    samples[row][figure] = by_label[_label(row)]
                log(f"{figure} measured")
    finally:
        os.sched_setaffinity(0, mask)
    return {
        "plan": {"rounds": rounds, "window": window, "warmup": warmup, "idle_count": idle_count},
        "samples": samples,
    }


def median(samples: list[dict[str, float]], metric: str) -> float:
    return statistics.median(sample[metric] for sample in samples)


def ratio(samples: dict[str, list[dict[str, float]]], base: dict[str, list[dict[str, float]]], figure: str) -> float:
    """The median of the per-round ratios to the base row (both measured in the same round)."""
    pairs = zip(samples[figure], base[figure], strict=True)
    return statistics.median(mine["rate"] / theirs["rate"] for mine, theirs in pairs)


def table(data: dict[str, Any], command: str) -> str:
    """The markdown table: one row per way of serving, throughput with its ratio to raw ASGI, latency, memory."""
    samples = data["samples"]
    base = samples[BASE]
    head = ["", *(f"echo {c}c {s // 1024 or s}{'KiB' if s >= 1024 else 'B'}" for c, s in ECHO)]
    head += ["p50 / p99 ms (10c 32B)", "p50 / p99 ms (100c 16KiB)", "connections/s", "KiB per idle connection"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row, _, _ in ROWS:
        figures = samples[row]
        cells = [row]
        for clients, size in ECHO:
            figure = f"echo {clients}c {size}B"
            rate = median(figures[figure], "rate")
            cells.append(f"{rate:,.0f} ({ratio(figures, base, figure):.2f}x)")
        for figure in ("echo 10c 32B", "echo 100c 16384B"):
            cells.append(f"{median(figures[figure], 'p50_ms'):.3f} / {median(figures[figure], 'p99_ms'):.3f}")
        cells.append(f"{median(figures['connect'], 'rate'):,.0f} ({ratio(figures, base, 'connect'):.2f}x)")
        cells.append(f"{median(figures['idle memory'], 'bytes_per_connection') / 1024:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    memory = (
        f"memory: server RSS with {data['plan']['idle_count']} idle connections open, minus with none, per connection"
    )
    return "\n".join(lines + footer(command, data["plan"], memory)) + "\n"


def footer(command: str, plan: dict[str, Any], more: str = "") -> list[str]:
    """The lines under a table: the command, how it measured (``more`` added), the versions."""
    how = (
        f"Command: `{command}`. One run, every row started at once on CPU 0, the load on CPU 1; "
        f"{plan['rounds']} interleaved windows of {plan['window']} s per figure, medians; "
        "ratios are to raw ASGI in the same windows"
    )
    versions_line = "Versions: " + ", ".join(f"{name} {version}" for name, version in versions().items())
    return ["", how + (f"; {more}." if more else "."), "", versions_line]


TableOf = Callable[[dict[str, Any], str], str]
"""What turns a run's data and its command into the markdown of ``results.md``."""


def main_of(
    prog: str,
    doc: str,
    out: Path,
    measure: Callable[[argparse.Namespace], dict[str, Any]],
    table: TableOf,
    argv: list[str] | None,
    idle: bool = False,
) -> None:
    """A command like this one (``bench.PROG``, ``doc`` its docstring): parse the common options (``--idle`` too,
    with ``idle``), measure, write ``results.json`` and ``results.md`` into ``--out`` (``out`` unless given), and
    print the table."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{prog}", description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--window", type=float, default=0.25)
    parser.add_argument("--warmup", type=float, default=0.1)
    if idle:
        parser.add_argument("--idle", type=int, default=2000, help="idle connections for the memory figure")
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args(argv)
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("the benchmark needs two CPUs: one for the servers, one for the load generator")
    command = f"python -m bench.{prog}" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    data = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"command": command, **data}, indent=1) + "\n")
    text = table(data, command)
    (args.out / "results.md").write_text(text)
    print(text)


def main(argv: list[str] | None = None) -> None:
    def measured(args: argparse.Namespace) -> dict[str, Any]:
        return measure(args.rounds, args.window, args.warmup, args.idle, log=lambda line: print(line, flush=True))

    main_of("headline", __doc__ or "", Path("bench/results/headline"), measured, table, argv, idle=True)


if __name__ == "__main__":
    main()
