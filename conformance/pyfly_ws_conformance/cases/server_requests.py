"""Server requests: ``session.request`` asks the client and waits for its reply, its error, a timeout or the end."""

from __future__ import annotations

import time
from typing import Any

from pyfly_ws import (
    RequestError,
    RequestTimeoutError,
    WebSocketSession,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.testing import TestSession

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, canonical, expect, receive, send, still_open
from ._support import record


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/requests")
class RequestsGateway(Pings):
    """Handlers that ask the client; one message at a time (the default concurrency)."""

    @message_mapping("ask")
    async def ask(self, session: WebSocketSession, data: Any) -> Any:
        return {"answer": await session.request("confirm", data, timeout=5)}

    @message_mapping("ask.twice")
    async def ask_twice(self, session: WebSocketSession) -> list[Any]:
        return [await session.request("first", 1, timeout=5), await session.request("second", 2, timeout=5)]

    @message_mapping("ask.error")
    async def ask_error(self, session: WebSocketSession) -> dict[str, Any]:
        try:
            await session.request("confirm", "please", timeout=5)
        except RequestError as exc:
            return {"code": exc.code, "message": exc.message, "errors": exc.errors}
        return {"code": None}

    @message_mapping("ask.timeout")
    async def ask_timeout(self, session: WebSocketSession) -> dict[str, Any]:
        started = time.monotonic()
        try:
            await session.request("confirm", None, timeout=0.2)
        except RequestTimeoutError as exc:
            waited = time.monotonic() - started
            return {"code": exc.code, "timeout_error": isinstance(exc, TimeoutError), "waited": 0.15 < waited < 2}
        return {"code": None}

    @message_mapping("ask.forever")
    async def ask_forever(self, session: WebSocketSession) -> None:
        started = time.monotonic()
        try:
            await session.request("never.answered", None, timeout=3)
        except Exception as exc:
            record(session, {"raised": type(exc).__name__, "within": round(time.monotonic() - started, 1) < 2})
            raise

    @message_mapping("echo")
    def echo(self, data: Any) -> Any:
        return data


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/asks-first")
class AsksFirstGateway(Pings):
    """Asks the client a question in ``on_connect``, before any message."""

    async def on_connect(self, session: WebSocketSession) -> None:
        await session.accept()
        session.state["name"] = await session.request("who", {"asked": "on_connect"}, timeout=5)
        await session.emit("hello", session.state["name"])

    @message_mapping("name")
    def name(self, session: WebSocketSession) -> Any:
        return session.state["name"]


async def _request(ws: TestSession, type: str, data: Any) -> str:
    """The next frame is a server request of ``type`` with ``data``: its id."""
    frame = await receive(ws)
    assert set(frame) == {"type", "id", "data"}, f"expected a request {type!r}, got {frame}"
    assert frame["type"] == type and canonical(frame["data"]) == canonical(data), f"expected {type!r}, got {frame}"
    assert isinstance(frame["id"], str) and frame["id"], f"a server request's id is a non-empty string: {frame}"
    return frame["id"]


@case("requests.round_trip")
async def round_trip(ctx: CaseContext) -> None:
    """``session.request`` sends ``{"type", "id", "data"}``; the client's reply with that id returns its data."""
    async with ctx.connect("/msg/requests") as ws:
        await send(ws, {"type": "ask", "id": "a", "data": {"q": "sure?"}})
        rid = await _request(ws, "confirm", {"q": "sure?"})
        await send(ws, {"type": "reply", "id": rid, "data": {"yes": [1, 2]}})
        await expect(ws, {"type": "reply", "id": "a", "data": {"answer": {"yes": [1, 2]}}})
        await send(ws, {"type": "ask.twice", "id": "b"})
        first = await _request(ws, "first", 1)
        await send(ws, {"type": "reply", "id": first, "data": "one"})
        second = await _request(ws, "second", 2)
        assert second != first, f"each server request has its own id, got {first!r} twice"
        await send(ws, {"type": "reply", "id": second})  # no data: null
        await expect(ws, {"type": "reply", "id": "b", "data": ["one", None]})
        await still_open(ws)


@case("requests.client_error")
async def client_error(ctx: CaseContext) -> None:
    """The client answering with an error frame raises ``RequestError`` with its code, message and errors."""
    async with ctx.connect("/msg/requests") as ws:
        await send(ws, {"type": "ask.error", "id": "e"})
        rid = await _request(ws, "confirm", "please")
        await send(ws, {"type": "error", "id": rid, "code": "declined", "message": "no thanks", "errors": [{"why": 1}]})
        await expect(
            ws,
            {"type": "reply", "id": "e", "data": {"code": "declined", "message": "no thanks", "errors": [{"why": 1}]}},
        )
        await still_open(ws)


@case("requests.timeout")
async def timeout(ctx: CaseContext) -> None:
    """No reply in time: ``RequestTimeoutError`` (a ``TimeoutError``, code ``timeout``); a late reply is ignored."""
    async with ctx.connect("/msg/requests") as ws:
        await send(ws, {"type": "ask.timeout", "id": "t"})
        rid = await _request(ws, "confirm", None)
        await expect(
            ws, {"type": "reply", "id": "t", "data": {"code": "timeout", "timeout_error": True, "waited": True}}
        )
        await send(ws, {"type": "reply", "id": rid, "data": "too late"})
        await still_open(ws)


@case("requests.session_closed")
async def session_closed(ctx: CaseContext) -> None:
    """The client leaving while a server request waits: the request raises ``SessionClosedError`` at once."""
    async with ctx.connect("/msg/requests") as ws:
        await send(ws, {"type": "ask.forever", "id": "f"})
        await _request(ws, "never.answered", None)
    assert await ctx.wait_events(1, within=6) == [{"raised": "SessionClosedError", "within": True}]


@case("requests.reply_overtakes_queue")
async def reply_overtakes_queue(ctx: CaseContext) -> None:
    """One message at a time: a reply sent behind queued messages reaches the waiting handler; then the queue runs."""
    async with ctx.connect("/msg/requests") as ws:
        await send(ws, {"type": "ask", "id": "a", "data": 1})
        rid = await _request(ws, "confirm", 1)
        for index in range(3):
            await send(ws, {"type": "echo", "id": f"e{index}", "data": index})
        await send(ws, {"type": "reply", "id": rid, "data": "ok"})
        await expect(ws, {"type": "reply", "id": "a", "data": {"answer": "ok"}})
        for index in range(3):
            await expect(ws, {"type": "reply", "id": f"e{index}", "data": index})
        await still_open(ws)


@case("requests.from_on_connect")
async def from_on_connect(ctx: CaseContext) -> None:
    """``on_connect`` can ask the client before any message: the request is the first frame, its answer is kept."""
    async with ctx.connect("/msg/asks-first") as ws:
        rid = await _request(ws, "who", {"asked": "on_connect"})
        await send(ws, {"type": "reply", "id": rid, "data": "ann"})
        await expect(ws, {"type": "hello", "data": "ann"})
        await send(ws, {"type": "name", "id": 1})
        await expect(ws, {"type": "reply", "id": 1, "data": "ann"})
        await still_open(ws)
