"""Handshake: accept, subprotocol negotiation, accept headers, refusal before accept."""

from __future__ import annotations

from pyfly_ws import WebSocketSession, WebSocketStateError, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._support import expect_refused, record


@rest_controller
@request_mapping("/handshake")
class HandshakeController:
    """Endpoints that accept, negotiate or refuse in different ways."""

    @websocket_mapping("/plain")
    async def plain(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json({"offered": list(session.subprotocols), "accepted": session.accepted})

    @websocket_mapping("/pick-last")
    async def pick_last(self, session: WebSocketSession) -> None:
        await session.accept(subprotocol=session.subprotocols[-1] if session.subprotocols else None)
        await session.send_text("ok")

    @websocket_mapping("/headers")
    async def with_headers(self, session: WebSocketSession) -> None:
        await session.accept(headers={"X-Conformance": "yes", "X-Other": "2"})
        await session.send_text("ok")

    @websocket_mapping("/close-first")
    async def close_first(self, session: WebSocketSession) -> None:
        await session.close()

    @websocket_mapping("/return-first")
    async def return_first(self, session: WebSocketSession) -> None:
        record(session, "returned")

    @websocket_mapping("/raise-first")
    async def raise_first(self, session: WebSocketSession) -> None:
        raise RuntimeError("refusing by accident")

    @websocket_mapping("/early-receive")
    async def early_receive(self, session: WebSocketSession) -> None:
        try:
            await session.receive_text()
        except WebSocketStateError as exc:
            record(session, str(exc))
        await session.accept()
        await session.send_text("accepted after")

    @websocket_mapping("/state")
    async def state(self, session: WebSocketSession) -> None:
        await session.accept()
        session.state.setdefault("count", 0)
        async for _ in session.iter_text():
            session.state["count"] += 1
            await session.send_text(str(session.state["count"]))


@case("handshake.accept")
async def accept(ctx: CaseContext) -> None:
    """``accept()`` completes the handshake and the session reports it accepted."""
    async with ctx.connect("/handshake/plain") as ws:
        assert await ws.receive_json() == {"offered": [], "accepted": True}
        assert ws.subprotocol is None


@case("handshake.subprotocols_offered")
async def subprotocols_offered(ctx: CaseContext) -> None:
    """``session.subprotocols`` lists what the client offered, in its order."""
    async with ctx.connect("/handshake/plain", subprotocols=["b.v1", "a.v2"]) as ws:
        assert (await ws.receive_json())["offered"] == ["b.v1", "a.v2"]


@case("handshake.subprotocol_chosen", requires=("subprotocols",), server_requires=("subprotocols",))
async def subprotocol_chosen(ctx: CaseContext) -> None:
    """The subprotocol passed to ``accept()`` is the one the client sees negotiated."""
    async with ctx.connect("/handshake/pick-last", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert await ws.receive_text() == "ok"


@case("handshake.no_subprotocol_chosen")
async def no_subprotocol_chosen(ctx: CaseContext) -> None:
    """Accepting without a subprotocol leaves none negotiated, even when some were offered."""
    async with ctx.connect("/handshake/plain", subprotocols=["chat.v1"]) as ws:
        assert ws.subprotocol is None
        assert (await ws.receive_json())["accepted"] is True


@case("handshake.accept_headers", requires=("accept_headers",), server_requires=("accept_headers",))
async def accept_headers(ctx: CaseContext) -> None:
    """Headers passed to ``accept()`` reach the client in the handshake response."""
    async with ctx.connect("/handshake/headers") as ws:
        assert ws.response_headers.get("x-conformance") == "yes"
        assert ws.response_headers.get("X-Other") == "2"


@case("handshake.close_before_accept")
async def close_before_accept(ctx: CaseContext) -> None:
    """``close()`` before ``accept()`` refuses the handshake with HTTP 403."""
    await expect_refused(ctx, "/handshake/close-first")


@case("handshake.return_before_accept")
async def return_before_accept(ctx: CaseContext) -> None:
    """A handler that returns without accepting refuses the handshake with 403, logging no warning."""
    await expect_refused(ctx, "/handshake/return-first")
    assert await ctx.wait_events(1) == ["returned"]
    assert await ctx.logs("WARNING") == []


@case("handshake.raise_before_accept")
async def raise_before_accept(ctx: CaseContext) -> None:
    """A handler that raises before accepting refuses with 403 and logs a WARNING with traceback."""
    await expect_refused(ctx, "/handshake/raise-first")
    warnings = await ctx.logs("WARNING")
    assert len(warnings) == 1, warnings
    assert "HandshakeController.raise_first" in warnings[0]["message"]
    assert warnings[0]["traceback"]


@case("handshake.receive_before_accept")
async def receive_before_accept(ctx: CaseContext) -> None:
    """Receiving before ``accept()`` raises ``WebSocketStateError`` and the session is still usable."""
    async with ctx.connect("/handshake/early-receive") as ws:
        assert await ws.receive_text() == "accepted after"
    [message] = await ctx.wait_events(1)
    assert "before accept" in message


@case("handshake.state_per_connection")
async def state_per_connection(ctx: CaseContext) -> None:
    """``session.state`` belongs to one connection: two sessions count separately."""
    async with ctx.connect("/handshake/state") as one, ctx.connect("/handshake/state") as two:
        for expected in ("1", "2"):
            await one.send_text("x")
            assert await one.receive_text() == expected
        await two.send_text("x")
        assert await two.receive_text() == "1"
