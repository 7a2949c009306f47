"""Ordering: one message at a time in arrival order by default; ``concurrency=N`` handles N at once."""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio

from pyfly_ws import WebSocketSession, message_mapping, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, expect_reply, receive, send, still_open


@dataclass
class Nap:
    seconds: float
    tag: str


class Napping(Pings):
    """Handlers that sleep, counting how many of one session's messages are being handled at once."""

    @message_mapping("nap")
    async def nap(self, session: WebSocketSession, nap: Nap) -> str:
        state = session.state
        state["running"] = state.get("running", 0) + 1
        state["peak"] = max(state.get("peak", 0), state["running"])
        try:
            await anyio.sleep(nap.seconds)
        finally:
            state["running"] -= 1
        return nap.tag

    @message_mapping("peak")
    def peak(self, session: WebSocketSession) -> int:
        return int(session.state.get("peak", 0))


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/ordered")
class OrderedGateway(Napping):
    """The default: ``concurrency=1``."""


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/concurrent", concurrency=4)
class ConcurrentGateway(Napping):
    """Four messages of a session at once."""


@case("ordering.arrival_order")
async def arrival_order(ctx: CaseContext) -> None:
    """By default messages are handled one at a time: replies come in arrival order though earlier ones sleep longer."""
    naps = [0.3, 0.0, 0.1, 0.0, 0.05]
    async with ctx.connect("/msg/ordered") as ws:
        for index, seconds in enumerate(naps):
            await send(ws, {"type": "nap", "id": index, "data": {"seconds": seconds, "tag": f"n{index}"}})
        for index in range(len(naps)):
            await expect(ws, {"type": "reply", "id": index, "data": f"n{index}"})
        await send(ws, {"type": "peak", "id": "p"})
        assert await expect_reply(ws, "p") == 1, "one message at a time"


@case("ordering.concurrent_overtakes")
async def concurrent_overtakes(ctx: CaseContext) -> None:
    """With ``concurrency=4`` a slow message does not delay a fast one: replies come as handlers finish, by id."""
    async with ctx.connect("/msg/concurrent") as ws:
        await send(ws, {"type": "nap", "id": "slow", "data": {"seconds": 0.5, "tag": "s"}})
        await send(ws, {"type": "nap", "id": "fast", "data": {"seconds": 0.0, "tag": "f"}})
        await expect(ws, {"type": "reply", "id": "fast", "data": "f"})
        await still_open(ws)  # answered while the slow one sleeps
        await expect(ws, {"type": "reply", "id": "slow", "data": "s"})


@case("ordering.concurrency_bounded")
async def concurrency_bounded(ctx: CaseContext) -> None:
    """``concurrency=4`` with eight sleeping messages: four run at once, never more; every reply matches its id."""
    async with ctx.connect("/msg/concurrent") as ws:
        started = time.monotonic()
        for index in range(8):
            await send(ws, {"type": "nap", "id": index, "data": {"seconds": 0.15, "tag": f"n{index}"}})
        replies = {}
        for _ in range(8):
            frame = await receive(ws)
            assert frame["type"] == "reply" and set(frame) == {"type", "id", "data"}, frame
            replies[frame["id"]] = frame["data"]
        elapsed = time.monotonic() - started
        assert replies == {index: f"n{index}" for index in range(8)}, replies
        await send(ws, {"type": "peak", "id": "p"})
        assert await expect_reply(ws, "p") == 4, "exactly four messages at once"
        assert elapsed >= 0.28, f"eight 0.15 s messages four at a time take two rounds, took {elapsed:.2f} s"
