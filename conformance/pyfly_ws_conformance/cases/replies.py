"""Replies: a handler's return value answers a message that has an id, echoed as sent; no id, no reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyfly_ws import Message, message_mapping, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, send, still_open


@dataclass
class Point:
    x: int
    y: int


@dataclass
class Shape:
    name: str
    points: list[Point] = field(default_factory=list)
    tags: dict[str, Any] = field(default_factory=dict)


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/replies")
class RepliesGateway(Pings):
    """Handlers returning each kind of value."""

    @message_mapping("echo")
    def echo(self, data: Any) -> Any:
        return data

    @message_mapping("nothing")
    def nothing(self) -> None:
        return None

    @message_mapping("id")
    def message_id(self, message: Message) -> Any:
        return [message.id, type(message.id).__name__]

    @message_mapping("shape")
    def shape(self, name: str) -> Shape:
        return Shape(name, [Point(0, 0), Point(3, 4)], {"closed": False})


@case("replies.value")
async def value(ctx: CaseContext) -> None:
    """A message with a string id is answered ``{"type": "reply", "id": id, "data": return value}``."""
    async with ctx.connect("/msg/replies") as ws:
        data = {"text": "héllo", "list": [1, 2.5, None, True], "nested": {"empty": {}}}
        await send(ws, {"type": "echo", "id": "c1", "data": data})
        await expect(ws, {"type": "reply", "id": "c1", "data": data})


@case("replies.none_is_null")
async def none_is_null(ctx: CaseContext) -> None:
    """A handler returning ``None`` is answered with ``"data": null`` (the key is there)."""
    async with ctx.connect("/msg/replies") as ws:
        await send(ws, {"type": "nothing", "id": "n"})
        await expect(ws, {"type": "reply", "id": "n", "data": None})
        await send(ws, {"type": "echo", "id": "m"})  # no data: the handler gets None
        await expect(ws, {"type": "reply", "id": "m", "data": None})


@case("replies.no_id_no_reply")
async def no_id_no_reply(ctx: CaseContext) -> None:
    """A message without an id (or with ``"id": null``) is handled, not answered: the next reply is the next one's."""
    async with ctx.connect("/msg/replies") as ws:
        await send(ws, {"type": "echo", "data": "first"})
        await send(ws, {"type": "echo", "id": None, "data": "second"})
        await send(ws, {"type": "nothing"})
        await send(ws, {"type": "echo", "id": "third", "data": 3})
        await expect(ws, {"type": "reply", "id": "third", "data": 3})
        await ws.receive_nothing(0.1)


@case("replies.int_ids")
async def int_ids(ctx: CaseContext) -> None:
    """Integer ids (zero, negative, beyond 32 bits) come back as the same integers; string ids as the same strings."""
    async with ctx.connect("/msg/replies") as ws:
        for mid in (0, 7, -1, 2**40, "7", "", "ü"):
            await send(ws, {"type": "id", "id": mid})
            await expect(ws, {"type": "reply", "id": mid, "data": [mid, type(mid).__name__]}, after=mid)


@case("replies.dataclass")
async def dataclass_reply(ctx: CaseContext) -> None:
    """A returned dataclass (nested, with lists and dicts) is encoded as its fields."""
    async with ctx.connect("/msg/replies") as ws:
        await send(ws, {"type": "shape", "id": "s", "data": "tri"})
        expected = {"name": "tri", "points": [{"x": 0, "y": 0}, {"x": 3, "y": 4}], "tags": {"closed": False}}
        await expect(ws, {"type": "reply", "id": "s", "data": expected})
        await still_open(ws)
