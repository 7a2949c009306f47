"""Bytecode instructions per connection and per echoed message: ``bench.micro``'s work, counted instead of timed.

    python -m bench.opcodes [--targets pyfly-asgi pyfly-asgi-plain ...]
    python -m bench.opcodes --targets typed            (the typed echo: msg-pyfly-asgi/pydantic...)

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
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from . import micro
from .targets import METERED, PLAIN, SIGNED, TARGETS, build

_OURS = ("/pyfly_ws/", "/adapters/")


class _Counting:
    """Counts the instructions executed while active, per code object (a function, a module...)."""

    def __init__(self) -> None:
        self.codes: Counter[CodeType] = Counter()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> _Counting:
        frame.f_trace_opcodes = True
        if event == "opcode":
            self.codes[frame.f_code] += 1
        return self

    def totals(self, per: int) -> tuple[float, float]:
        """Instructions per unit: pyfly-ws's own (core and adapters), and all Python code."""
        ours = sum(n for code, n in self.codes.items() if any(part in code.co_filename for part in _OURS))
        return ours / per, sum(self.codes.values()) / per

    def functions(self, per: int, top: int) -> list[tuple[float, str]]:
        """The ``top`` functions by instructions per unit, each named ``folder/file.py:qualname``."""
        named: Counter[str] = Counter()
        for code, n in self.codes.items():
            path = Path(code.co_filename)
            named[f"{path.parent.name}/{path.name}:{code.co_qualname}"] += n
        return [(n / per, name) for name, n in named.most_common(top)]


Counts = tuple[tuple[float, float], tuple[float, float], list[tuple[float, str]]]


async def _count(name: str, connections: int, messages: int, top: int = 0) -> Counts:
    work = micro.Work.of(name)
    app = build(work.target)
    stop = await micro._lifespan(app)
    try:
        await micro._connections(app, 50, work)  # warm: the first connection builds the controller
        results = []
        for run, count in ((micro._connections, connections), (micro._messages, messages)):
            counting = _Counting()
            sys.settrace(counting)
            try:
                await run(app, count, work)
            finally:
                sys.settrace(None)
            results.append(counting.totals(count))
    finally:
        await stop()
    return results[0], results[1], counting.functions(messages, top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.opcodes", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=(*TARGETS, PLAIN, METERED, *SIGNED, *micro.typed_names(), "typed"),
        default=[t for t in TARGETS if "pyfly" in t],
        help="typed: every typed echo target (TARGET/KIND)",
    )
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--functions", type=int, default=0, metavar="N", help="also list the N functions that run most per message"
    )
    args = parser.parse_args(argv)
    targets = micro.expand(args.targets)
    width = max(18, *map(len, targets))
    print(f"{'target':{width}} {'per connection':>16} {'per message':>14}   (pyfly-ws's own / all Python)")
    for target in targets:
        conn, msg, functions = asyncio.run(_count(target, args.connections, args.messages, args.functions))
        print(f"{target:{width}} {conn[0]:7.0f} / {conn[1]:6.0f} {msg[0]:6.1f} / {msg[1]:6.1f}", flush=True)
        for count, function in functions:
            print(f"    {count:7.1f}  {function}")


if __name__ == "__main__":
    main()
