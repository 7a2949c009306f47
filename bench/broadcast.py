"""Broadcast: the time until the last of N sessions got one published message.

    python -m bench.broadcast [--sessions 1000]

Runs two cases: the in-memory hub with every session on one server process, and the
Redis hub with the sessions spread over two server processes (a Redis server started
for the run). Each case is measured ``--rounds`` times; the median and the spread
are printed. Servers: uvicorn (websockets-sansio) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from contextlib import ExitStack
from pathlib import Path

import anyio
from websockets.asyncio.client import ClientConnection, connect

from pyfly_ws_conformance.servers import running

ROOT = str(Path(__file__).resolve().parents[1])


async def _round(clients: list[ClientConnection], publisher: ClientConnection, tag: str) -> float:
    """Seconds from publishing ``tag`` until every client received it."""
    pending = len(clients)
    started = finished = 0.0

    async def wait(ws: ClientConnection) -> None:
        nonlocal pending, finished
        while await ws.recv() != tag:
            pass
        pending -= 1
        if pending == 0:
            finished = time.perf_counter()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for ws in clients:
                group.start_soon(wait, ws)
            await anyio.sleep(0.2)  # every receiver is waiting
            started = time.perf_counter()
            await publisher.send(f"go:{tag}")
    return finished - started


async def _measure(bases: list[str], sessions: int, rounds: int) -> list[float]:
    limiter = anyio.CapacityLimiter(100)
    clients: list[ClientConnection] = []
    async with anyio.create_task_group() as group:

        async def open_one(i: int) -> None:
            async with limiter:
                ws = await connect(f"{bases[i % len(bases)]}/room", open_timeout=30, max_queue=None)
                assert await ws.recv() == "joined"
                clients.append(ws)

        for i in range(sessions):
            group.start_soon(open_one, i)
    try:
        await anyio.sleep(0.5)  # the other process's subscription is in place
        return [await _round(clients, clients[0], f"r{n}") for n in range(rounds)]
    finally:
        async with anyio.create_task_group() as group:
            for ws in clients:
                group.start_soon(ws.close)


def _serve(stack: ExitStack, count: int, env: dict[str, str]) -> list[str]:
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])), **env}
    return [stack.enter_context(running("uvicorn-sansio", "bench.broadcast_app:app", env=env)) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from tests.redis.redis_server import redis_server

    results: dict[str, list[float]] = {}
    with ExitStack() as stack:
        results["memory, 1 process"] = anyio.run(_measure, _serve(stack, 1, {}), args.sessions, args.rounds)
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        bases = _serve(stack, 2, {"BENCH_REDIS_URL": redis.url})
        results["redis, 2 processes"] = anyio.run(_measure, bases, args.sessions, args.rounds)
    print(f"broadcast to {args.sessions} sessions: time until the last one got the message ({args.rounds} rounds)")
    for case, times in results.items():
        ms = [t * 1000 for t in times]
        print(f"  {case:<20} median {statistics.median(ms):7.1f} ms   min {min(ms):7.1f}   max {max(ms):7.1f}")


if __name__ == "__main__":
    main()
