"""Bytecode instructions per connection and per echoed message: ``bench.micro``'s work, counted instead of timed.

    python -m bench.opcodes [--targets pyfly-asgi pyfly-asgi-plain ...]

The same in-memory connections and messages as ``python -m bench.micro``, run
under a tracer that counts every Python bytecode instruction executed. The
count does not depend on what else the machine is doing, so it tells two
versions of the code apart where timings on a shared machine cannot (it does
not see work done in C: use it beside the timings, not instead of them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from types import FrameType
from typing import Any

from . import micro
from .targets import PLAIN, TARGETS, build

_OURS = ("/pyfly_ws/", "/adapters/")


class _Counting:
    """Counts the instructions executed while active, per code file."""

    def __init__(self) -> None:
        self.files: Counter[str] = Counter()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> _Counting:
        frame.f_trace_opcodes = True
        if event == "opcode":
            self.files[frame.f_code.co_filename] += 1
        return self

    def totals(self, per: int) -> tuple[float, float]:
        """Instructions per unit: pyfly-ws's own (core and adapters), and all Python code."""
        ours = sum(n for name, n in self.files.items() if any(part in name for part in _OURS))
        return ours / per, sum(self.files.values()) / per


async def _count(app: Any, connections: int, messages: int) -> tuple[tuple[float, float], tuple[float, float]]:
    stop = await micro._lifespan(app)
    try:
        await micro._connections(app, 50)  # warm: the first connection builds the controller
        results = []
        for work, count in ((micro._connections, connections), (micro._messages, messages)):
            counting = _Counting()
            sys.settrace(counting)
            try:
                await work(app, count)
            finally:
                sys.settrace(None)
            results.append(counting.totals(count))
    finally:
        await stop()
    return results[0], results[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.opcodes", description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", choices=(*TARGETS, PLAIN), default=[t for t in TARGETS if "pyfly" in t])
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args(argv)
    print(f"{'target':18} {'per connection':>16} {'per message':>14}   (pyfly-ws's own / all Python)")
    for target in args.targets:
        conn, msg = asyncio.run(_count(build(target), args.connections, args.messages))
        print(f"{target:18} {conn[0]:7.0f} / {conn[1]:6.0f} {msg[0]:6.1f} / {msg[1]:6.1f}")


if __name__ == "__main__":
    main()
