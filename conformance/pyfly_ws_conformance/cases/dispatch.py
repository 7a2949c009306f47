"""Dispatch: a controller class as one message-level endpoint, its messages routed by type, its hooks called."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel

from pyfly_ws import Message, WebSocketSession, message_mapping, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, expect_error, expect_reply, send, still_open
from ._support import expect_refused, record


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/dispatch")
class DispatchGateway(Pings):
    """Sync and async handlers; no ``on_connect``, so the session is accepted by default."""

    @message_mapping("sum")
    def total(self, numbers: list[int]) -> int:
        return sum(numbers)

    @message_mapping("upper")
    async def upper(self, session: WebSocketSession, text: str) -> str:
        await anyio.lowlevel.checkpoint()
        return f"{text.upper()}@{session.path}"

    @message_mapping("describe")
    def describe(self, message: Message, session: WebSocketSession, data: dict[str, Any]) -> dict[str, Any]:
        assert message.data is data, "the message's data is the validated payload"
        return {"type": message.type, "id": message.id, "data": data, "path": session.path}


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/welcome")
class WelcomeGateway(Pings):
    """Accepts in ``on_connect`` and greets the client with a push."""

    async def on_connect(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.emit("welcome", {"path": session.path, "who": session.query_params.get("who")})


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/hook-returns")
class ReturningHookGateway(Pings):
    """A sync ``on_connect`` that neither accepts nor closes: the session is accepted when it returns."""

    def on_connect(self, session: WebSocketSession) -> None:
        record(session, {"on_connect": session.path, "accepted": session.accepted})


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/refuses")
class RefusingGateway(Pings):
    """Closes in ``on_connect``: the handshake is refused."""

    async def on_connect(self, session: WebSocketSession) -> None:
        record(session, {"on_connect": session.path})
        await session.close()

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, {"on_disconnect": session.path})


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/fallback")
class FallbackGateway(Pings):
    """``on_message`` gets every type no ``@message_mapping`` takes, and its return value is the reply."""

    async def on_message(self, session: WebSocketSession, message: Message) -> object:
        await anyio.lowlevel.checkpoint()
        record(session, {"type": message.type, "id": message.id})
        return {"type": message.type, "id": message.id, "data": message.data}


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/disconnect")
class DisconnectGateway(Pings):
    """Records each ``on_disconnect``."""

    async def on_disconnect(self, session: WebSocketSession) -> None:
        await anyio.lowlevel.checkpoint()
        record(session, {"on_disconnect": session.path, "closed": session.closed})


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/rooms/{room}/{n:int}")
class PathGateway(Pings):
    """Path parameters, typed, reach the message handlers through the session."""

    @message_mapping("params")
    def params(self, session: WebSocketSession) -> dict[str, list[Any]]:
        return {name: [type(value).__name__, value] for name, value in session.path_params.items()}


@rest_controller
@request_mapping("/msg/base")
@websocket_mapping("/joined")
class JoinedGateway(Pings):
    """Served at the class's base path joined with its own: ``/msg/base/joined``."""


@rest_controller
@request_mapping("/msg/bare")
@websocket_mapping
class BareGateway(Pings):
    """``@websocket_mapping`` bare on the class: served at the base path itself."""


@rest_controller
@request_mapping("/msg/mixed")
@websocket_mapping("/messages")
class MixedController(Pings):
    """One controller holding a message-level endpoint (the class) and a method endpoint."""

    @websocket_mapping("/raw")
    async def raw(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_text(f"{id(self)}:{await session.receive_text()}")

    @message_mapping("instance")
    def instance(self) -> int:
        return id(self)


@case("dispatch.default_accept")
async def default_accept(ctx: CaseContext) -> None:
    """Without ``on_connect`` the session is accepted, nothing is sent first, and a message is answered."""
    async with ctx.connect("/msg/dispatch") as ws:
        await ws.receive_nothing(0.1)
        await still_open(ws)


@case("dispatch.sync_handler")
async def sync_handler(ctx: CaseContext) -> None:
    """A plain-function handler is called with its validated payload and its return value is the reply."""
    async with ctx.connect("/msg/dispatch") as ws:
        await send(ws, {"type": "sum", "id": "a", "data": [1, 2, 39]})
        await expect(ws, {"type": "reply", "id": "a", "data": 42})


@case("dispatch.async_handler")
async def async_handler(ctx: CaseContext) -> None:
    """A coroutine handler is awaited; it gets the session and the payload, in the order its parameters say."""
    async with ctx.connect("/msg/dispatch") as ws:
        await send(ws, {"type": "upper", "id": "b", "data": "héllo"})
        await expect(ws, {"type": "reply", "id": "b", "data": "HÉLLO@/msg/dispatch"})


@case("dispatch.by_type")
async def by_type(ctx: CaseContext) -> None:
    """Messages of different types on one session each reach their own handler; a ``Message`` parameter sees it."""
    async with ctx.connect("/msg/dispatch") as ws:
        await send(ws, {"type": "describe", "id": 1, "data": {"k": [True, None]}})
        await expect(
            ws,
            {
                "type": "reply",
                "id": 1,
                "data": {"type": "describe", "id": 1, "data": {"k": [True, None]}, "path": "/msg/dispatch"},
            },
        )
        await send(ws, {"type": "sum", "id": 2, "data": [5]})
        await expect(ws, {"type": "reply", "id": 2, "data": 5})
        await still_open(ws)


@case("dispatch.on_connect_welcome")
async def on_connect_welcome(ctx: CaseContext) -> None:
    """An ``on_connect`` that accepts and pushes a welcome: the push is the first frame, then messages are answered."""
    async with ctx.connect("/msg/welcome", query={"who": "ann"}) as ws:
        await expect(ws, {"type": "welcome", "data": {"path": "/msg/welcome", "who": "ann"}})
        await still_open(ws)


@case("dispatch.on_connect_returns")
async def on_connect_returns(ctx: CaseContext) -> None:
    """A sync ``on_connect`` that only returns is called before accept, and the session is accepted after it."""
    async with ctx.connect("/msg/hook-returns") as ws:
        await still_open(ws)
    assert await ctx.events() == [{"on_connect": "/msg/hook-returns", "accepted": False}]


@case("dispatch.on_connect_refuses")
async def on_connect_refuses(ctx: CaseContext) -> None:
    """An ``on_connect`` that closes refuses the handshake (403); ``on_disconnect`` is not called for it."""
    await expect_refused(ctx, "/msg/refuses")
    await anyio.sleep(0.1)
    assert await ctx.events() == [{"on_connect": "/msg/refuses"}]


@case("dispatch.on_message_fallback")
async def on_message_fallback(ctx: CaseContext) -> None:
    """``on_message`` gets the types no handler takes, with their id and data as sent; its return is the reply."""
    async with ctx.connect("/msg/fallback") as ws:
        await send(ws, {"type": "anything.else", "id": "f1", "data": {"x": [1, "two"]}})
        await expect(
            ws, {"type": "reply", "id": "f1", "data": {"type": "anything.else", "id": "f1", "data": {"x": [1, "two"]}}}
        )
        await send(ws, {"type": "quiet"})  # no id: handled, not answered
        await still_open(ws)  # a mapped type still goes to its handler
    assert await ctx.events() == [{"type": "anything.else", "id": "f1"}, {"type": "quiet", "id": None}]


@case("dispatch.on_disconnect")
async def on_disconnect(ctx: CaseContext) -> None:
    """``on_disconnect`` runs once after the client leaves, with the session closed."""
    async with ctx.connect("/msg/disconnect") as ws:
        await still_open(ws)
        assert await ctx.events() == []
    assert await ctx.wait_events(1) == [{"on_disconnect": "/msg/disconnect", "closed": True}]
    await anyio.sleep(0.1)
    assert len(await ctx.events()) == 1, "on_disconnect runs exactly once"


@case("dispatch.path_params")
async def path_params(ctx: CaseContext) -> None:
    """The endpoint's path parameters, converted as declared, reach a message handler as ``session.path_params``."""
    async with ctx.connect("/msg/rooms/lobby/42") as ws:
        await send(ws, {"type": "params", "id": "p"})
        await expect(ws, {"type": "reply", "id": "p", "data": {"room": ["str", "lobby"], "n": ["int", 42]}})
    await expect_refused(ctx, "/msg/rooms/lobby/not-a-number")


@case("dispatch.base_path")
async def base_path(ctx: CaseContext) -> None:
    """A class endpoint's path is joined to its ``@request_mapping`` base; a bare ``@websocket_mapping`` is the base."""
    for path in ("/msg/base/joined", "/msg/bare"):
        async with ctx.connect(path) as ws:
            await still_open(ws)
    await expect_refused(ctx, "/joined")
    await expect_refused(ctx, "/msg/base")


@case("dispatch.mixed_controller")
async def mixed_controller(ctx: CaseContext) -> None:
    """A controller with a class endpoint and a method endpoint serves both, from one instance."""
    async with ctx.connect("/msg/mixed/raw") as raw, ctx.connect("/msg/mixed/messages") as ws:
        await raw.send_text("hi")
        instance, _, text = (await raw.receive_text()).partition(":")
        assert text == "hi", f"the method endpoint echoes 'hi', got {text!r}"
        await still_open(ws)
        await send(ws, {"type": "instance", "id": 1})
        assert await expect_reply(ws, 1) == int(instance), "one controller instance serves both endpoints"
    async with ctx.connect("/msg/mixed/messages") as ws:
        await send(ws, {"type": "instance", "id": 2})
        assert await expect_reply(ws, 2) == int(instance), "one controller instance serves every session"
        await send(ws, {"type": "raw", "id": 3})
        await expect_error(ws, 3, "unknown_type")
