"""Closing: codes and reasons both ways, server- and client-initiated, and drops without a close frame."""

from __future__ import annotations

import anyio

from pyfly_ws import (
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
)

from ..context import CaseContext
from ..registry import case
from ._support import record


@rest_controller
@request_mapping("/closing")
class ClosingController:
    """Endpoints that close, or watch the client close."""

    @websocket_mapping("/returns")
    async def returns(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("bye")

    @websocket_mapping("/code/{code:int}")
    async def with_code(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(session.path_params["code"], session.query_params.get("reason"))

    @websocket_mapping("/watch")
    async def watch(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        try:
            while True:
                await session.receive()
        except WebSocketDisconnect as exc:
            record(session, {"code": exc.code, "reason": exc.reason, "closed": session.closed})
            raise

    @websocket_mapping("/after-close")
    async def after_close(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4000)
        await session.close(4001)  # a second close does nothing
        try:
            await session.send_text("too late")
        except SessionClosedError as exc:
            record(session, {"error": type(exc).__name__, "disconnect": isinstance(exc, WebSocketDisconnect)})

    @websocket_mapping("/bad-code")
    async def bad_code(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            await session.close(1006)
        except ValueError as exc:
            record(session, str(exc))
        await session.close(4002)

    @websocket_mapping("/send-after-peer-left")
    async def send_after_peer_left(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        await session.receive()  # the client's "going" marker
        with anyio.move_on_after(5):
            while True:
                try:
                    await session.send_text("still there?")
                except WebSocketDisconnect as exc:
                    record(session, type(exc).__name__)
                    return
                await anyio.sleep(0.02)
        record(session, "send kept succeeding")


@case("closing.normal_return_1000")
async def normal_return(ctx: CaseContext) -> None:
    """A handler that returns after accepting closes the connection with 1000."""
    async with ctx.connect("/closing/returns") as ws:
        assert await ws.receive_text() == "bye"
        assert (await ws.wait_closed())[0] == 1000


@case("closing.server_code")
async def server_code(ctx: CaseContext) -> None:
    """The code given to ``close()`` reaches the client (1000, 3000, 4000, 4999)."""
    for code in (1000, 3000, 4000, 4999):
        async with ctx.connect(f"/closing/code/{code}") as ws:
            assert (await ws.wait_closed())[0] == code


@case("closing.server_protocol_code", server_requires=("protocol_close_codes",))
async def server_protocol_code(ctx: CaseContext) -> None:
    """Protocol close codes given to ``close()`` reach the client (1001, 1008, 1011, 1013)."""
    for code in (1001, 1008, 1011, 1013):
        async with ctx.connect(f"/closing/code/{code}") as ws:
            assert (await ws.wait_closed())[0] == code


@case("closing.server_reason", requires=("close_reasons",), server_requires=("close_reason",))
async def server_reason(ctx: CaseContext) -> None:
    """The reason given to ``close()`` reaches the client, non-ASCII included."""
    async with ctx.connect("/closing/code/4001", query={"reason": "done, merçi"}) as ws:
        assert await ws.wait_closed() == (4001, "done, merçi")


@case("closing.client_close_ends_handler")
async def client_close(ctx: CaseContext) -> None:
    """When the client closes, the waiting handler gets ``WebSocketDisconnect`` and the session is closed."""
    async with ctx.connect("/closing/watch") as ws:
        assert await ws.receive_text() == "ready"
        await ws.close(1000)
    [event] = await ctx.wait_events(1)
    assert event["closed"] is True


@case("closing.client_code", requires=("peer_close_codes",), server_requires=("peer_close_code",))
async def client_code(ctx: CaseContext) -> None:
    """The handler's ``WebSocketDisconnect`` carries the client's close code."""
    async with ctx.connect("/closing/watch") as ws:
        assert await ws.receive_text() == "ready"
        await ws.close(4003, "client done")
    [event] = await ctx.wait_events(1)
    assert event["code"] == 4003


@case("closing.client_reason", requires=("peer_close_codes",), server_requires=("peer_close_reason",))
async def client_reason(ctx: CaseContext) -> None:
    """The handler's ``WebSocketDisconnect`` carries the client's close reason."""
    async with ctx.connect("/closing/watch") as ws:
        assert await ws.receive_text() == "ready"
        await ws.close(4004, "client done, ça va")
    [event] = await ctx.wait_events(1)
    assert (event["code"], event["reason"]) == (4004, "client done, ça va")


@case("closing.abrupt_drop")
async def abrupt_drop(ctx: CaseContext) -> None:
    """A client that vanishes without a close frame ends the waiting handler with ``WebSocketDisconnect``."""
    async with ctx.connect("/closing/watch") as ws:
        assert await ws.receive_text() == "ready"
        await ws.abort()
    [event] = await ctx.wait_events(1)
    assert event["closed"] is True
    assert event["code"] in (1005, 1006), event


@case("closing.send_after_close")
async def send_after_close(ctx: CaseContext) -> None:
    """Sending after ``close()`` raises ``SessionClosedError``, a disconnect error; a second close does nothing."""
    async with ctx.connect("/closing/after-close") as ws:
        assert (await ws.wait_closed())[0] == 4000
    assert await ctx.wait_events(1) == [{"error": "SessionClosedError", "disconnect": True}]


@case("closing.invalid_code_rejected")
async def invalid_code(ctx: CaseContext) -> None:
    """``close()`` with a code an endpoint may not send raises ``ValueError`` and sends nothing."""
    async with ctx.connect("/closing/bad-code") as ws:
        assert (await ws.wait_closed())[0] == 4002
    [message] = await ctx.wait_events(1)
    assert "1006" in message


@case("closing.send_after_peer_left", server_requires=("send_after_disconnect_raises",))
async def send_after_peer_left(ctx: CaseContext) -> None:
    """Sending to a client that has left raises a ``WebSocketDisconnect``-family error, not a framework error."""
    async with ctx.connect("/closing/send-after-peer-left") as ws:
        assert await ws.receive_text() == "ready"
        await ws.send_text("going")
        await ws.abort()
    [event] = await ctx.wait_events(1, within=8)
    assert event in ("WebSocketDisconnect", "SessionClosedError"), event
