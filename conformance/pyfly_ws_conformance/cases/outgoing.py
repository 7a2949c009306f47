"""The outgoing queue: order, the overflow policies, and a client that stops reading."""

from __future__ import annotations

import anyio

from pyfly_ws import (
    Limits,
    SessionClosedError,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.testing import ASGIClient

from ..context import CaseContext
from ..registry import case
from ..stalled import not_reading
from ._support import record

BURST = 100
CHUNK = b"z" * 16384


@rest_controller
@request_mapping("/out")
class OutgoingController:
    """Endpoints that send more than a client can take, under each policy."""

    @websocket_mapping("/drop-oldest", limits=Limits(send_queue=8, overflow="drop_oldest"))
    async def drop_oldest(self, session: WebSocketSession) -> None:
        await session.accept()
        posted = [session.post(str(i)) for i in range(BURST)]
        await session.close()  # waits until the queue is written
        record(session, ["posted", posted.count(True), "dropped", session.dropped])

    @websocket_mapping("/close", limits=Limits(send_queue=8, overflow="close"))
    async def close_policy(self, session: WebSocketSession) -> None:
        await session.accept()
        posted = [session.post(str(i)) for i in range(BURST)]
        record(session, ["refused_from", posted.index(False)])
        await session.receive()

    @websocket_mapping("/block", limits=Limits(send_queue=4, overflow="block"))
    async def block(self, session: WebSocketSession) -> None:
        await session.accept()
        for i in range(4):
            session.post(str(i))
        await session.send_text("after the queue")  # the queue is full: waits for room
        await session.close()

    @websocket_mapping("/two-tasks")
    async def two_tasks(self, session: WebSocketSession) -> None:
        await session.accept()

        async def sender(name: str) -> None:
            for i in range(50):
                await session.send_text(f"{name}{i}")

        async with anyio.create_task_group() as group:
            group.start_soon(sender, "a")
            group.start_soon(sender, "b")
        await session.close()

    @websocket_mapping("/flood", limits=Limits(send_timeout=0.5))
    async def flood(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            while True:
                await session.send_bytes(CHUNK)
        except SessionClosedError as exc:
            record(session, ["send failed", exc.code])
            raise

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, ["on_disconnect", session.close_code])


@case("outgoing.drop_oldest")
async def drop_oldest(ctx: CaseContext) -> None:
    """``overflow="drop_oldest"``: a burst into a queue of 8 keeps the newest 8, in order, and counts the rest."""
    async with ctx.connect("/out/drop-oldest") as ws:
        received = [await ws.receive() for _ in range(8)]
        assert await ws.wait_closed() == (1000, "")
    assert received == [str(i) for i in range(BURST - 8, BURST)]
    assert (await ctx.wait_events(1))[0] == ["posted", BURST, "dropped", BURST - 8]


@case("outgoing.close_policy", server_requires=("protocol_close_codes", "close_reason"))
async def close_policy(ctx: CaseContext) -> None:
    """``overflow="close"``: the send that finds the queue full closes the session with 1013 and a reason."""
    async with ctx.connect("/out/close") as ws:
        assert await ws.wait_closed() == (1013, "send queue full (8 messages)")
    events = await ctx.wait_events(2)
    assert events[0] == ["refused_from", 8]
    assert ["on_disconnect", 1013] in events
    logs = await ctx.logs("INFO")
    assert any("limit send_queue" in r["message"] for r in logs), logs


@case("outgoing.block")
async def block(ctx: CaseContext) -> None:
    """``overflow="block"``: a send into a full queue waits for room, and nothing is lost or reordered."""
    async with ctx.connect("/out/block") as ws:
        received = [await ws.receive() for _ in range(5)]
        assert await ws.wait_closed() == (1000, "")
    assert received == ["0", "1", "2", "3", "after the queue"]


@case("outgoing.order_per_sender")
async def order_per_sender(ctx: CaseContext) -> None:
    """Two tasks sending on one session at once: every message arrives, each task's in its own order."""
    async with ctx.connect("/out/two-tasks") as ws:
        received = [await ws.receive() for _ in range(100)]
        assert await ws.wait_closed() == (1000, "")
    for name in "ab":
        assert [m for m in received if isinstance(m, str) and m.startswith(name)] == [f"{name}{i}" for i in range(50)]


@case("outgoing.stalled_client", server_requires=("send_backpressure",))
async def stalled_client(ctx: CaseContext) -> None:
    """A client that stops reading is closed once a write waits ``send_timeout``; its handler ends, logged at INFO."""
    if isinstance(ctx.client, ASGIClient):
        async with ctx.connect("/out/flood"):  # never reads: the in-process buffer fills like a TCP window
            events = await ctx.wait_events(1, within=10)
    else:
        async with not_reading(ctx.client.url("/out/flood", f"t={ctx.token}")):
            events = await ctx.wait_events(1, within=10)
    assert ["on_disconnect", 1013] in events, events
    logs = await ctx.logs("INFO")
    assert any("limit send_timeout" in r["message"] for r in logs), logs
