"""Pushes: frames the server sends unasked, from a handler (``session.emit``) or to a room (``hub.publish_message``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyfly_ws import WebSocketSession, message_mapping, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, canonical, expect, send, still_open


@dataclass
class Point:
    x: int
    y: int


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/pushes")
class PushGateway(Pings):
    """Emits from handlers; rooms in an in-memory hub of its own."""

    def __init__(self) -> None:
        self.hub = Hub()

    @message_mapping("notify")
    async def notify(self, session: WebSocketSession, count: int) -> str:
        for n in range(count):
            await session.emit("tick", {"n": n})
        await session.emit("empty")
        await session.emit("point", Point(1, 2))
        return "done"

    @message_mapping("join")
    async def join(self, session: WebSocketSession, room: str) -> int:
        await self.hub.join(session, room)
        return self.hub.members(room)

    @message_mapping("say")
    async def say(self, data: dict[str, str]) -> int:
        return await self.hub.publish_message(data["room"], "said", {"text": data["text"], "at": Point(0, 1)})


@case("pushes.emit")
async def emit(ctx: CaseContext) -> None:
    """``session.emit`` from a handler sends ``{"type", "data"}`` frames (no id), in order, before the reply."""
    async with ctx.connect("/msg/pushes") as ws:
        await send(ws, {"type": "notify", "id": "n", "data": 3})
        for n in range(3):
            await expect(ws, {"type": "tick", "data": {"n": n}})
        await expect(ws, {"type": "empty", "data": None})
        await expect(ws, {"type": "point", "data": {"x": 1, "y": 2}})
        await expect(ws, {"type": "reply", "id": "n", "data": "done"})
        await send(ws, {"type": "notify", "data": 1})  # no id: the pushes still go, no reply
        await expect(ws, {"type": "tick", "data": {"n": 0}})
        await expect(ws, {"type": "empty", "data": None})
        await expect(ws, {"type": "point", "data": {"x": 1, "y": 2}})
        await still_open(ws)


@case("pushes.publish_message")
async def publish_message(ctx: CaseContext) -> None:
    """``hub.publish_message`` to a room reaches every member with the same frame; non-members get nothing."""
    room = f"room-{ctx.token}"
    async with ctx.connect("/msg/pushes") as ann, ctx.connect("/msg/pushes") as bo, ctx.connect("/msg/pushes") as cy:
        await send(ann, {"type": "join", "id": 1, "data": room})
        await expect(ann, {"type": "reply", "id": 1, "data": 1})
        await send(bo, {"type": "join", "id": 2, "data": room})
        await expect(bo, {"type": "reply", "id": 2, "data": 2})
        await send(ann, {"type": "say", "id": 3, "data": {"room": room, "text": "héllo"}})
        pushed = await ann.receive_text()
        expected = {"type": "said", "data": {"text": "héllo", "at": {"x": 0, "y": 1}}}
        assert canonical(json.loads(pushed)) == canonical(expected), f"expected {expected}, got {pushed}"
        await expect(ann, {"type": "reply", "id": 3, "data": 2})
        assert await bo.receive_text() == pushed, "every member gets the frame as encoded once"
        await cy.receive_nothing(0.1)
        await still_open(bo)
