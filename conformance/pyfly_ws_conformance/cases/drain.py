"""Graceful drain: live sessions are counted, closed with 1001, and their handlers finish."""

from __future__ import annotations

from typing import Any

import anyio

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import ASGIClient, HandshakeRefused

from ..context import CaseContext
from ..recorder import PROBE_PATH
from ..registry import case
from ._support import record


async def _hold(session: WebSocketSession) -> None:
    """Accept, say ``ready``, then wait until the client leaves or the session is closed."""
    await session.accept()
    await session.send_text("ready")
    async for _ in session.iter_text():
        pass


@rest_controller
@request_mapping("/drain")
class DrainController:
    """Sessions that wait for the client, one that ignores the close, and one for counting."""

    @websocket_mapping("/hold")
    async def hold(self, session: WebSocketSession) -> None:
        await _hold(session)

    @websocket_mapping("/count")
    async def count(self, session: WebSocketSession) -> None:
        await _hold(session)

    @websocket_mapping("/stubborn")
    async def stubborn(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        await anyio.sleep(60)  # never looks at the session again: the drain must cancel it

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, ["on_disconnect", session.close_code, session.close_reason])


async def _probe(ctx: CaseContext, **request: Any) -> Any:
    async with ctx.client.connect(PROBE_PATH) as probe:
        await probe.send_json(request)
        return await probe.receive_json(timeout=15)


@case("drain.counts")
async def counts(ctx: CaseContext) -> None:
    """The registry counts open sessions per endpoint path, and forgets them once closed."""
    async with ctx.connect("/drain/count") as one, ctx.connect("/drain/count") as two:
        assert await one.receive() == await two.receive() == "ready"
        assert (await _probe(ctx, op="counts")).get("/drain/count") == 2
    for _ in range(100):  # the server notices the close a moment later
        if not (await _probe(ctx, op="counts")).get("/drain/count"):
            break
        await anyio.sleep(0.05)
    assert not (await _probe(ctx, op="counts")).get("/drain/count")


@case("drain.closes_with_1001", server_requires=("protocol_close_codes", "close_reason"))
async def closes_with_1001(ctx: CaseContext) -> None:
    """A drain closes every live session with 1001 and a reason, and each ``on_disconnect`` runs."""
    async with ctx.connect("/drain/hold") as one, ctx.connect("/drain/hold") as two:
        assert await one.receive() == await two.receive() == "ready"
        try:
            result = await _probe(ctx, op="drain", path="/drain/hold", timeout=5)
            assert result["drained"] == 2
            assert await one.wait_closed() == await two.wait_closed() == (1001, "server shutting down")
        finally:
            await _probe(ctx, op="reopen")
    assert await ctx.wait_events(2) == [["on_disconnect", 1001, "server shutting down"]] * 2


@case("drain.refuses_new_handshakes")
async def refuses_new_handshakes(ctx: CaseContext) -> None:
    """While draining, a new handshake is refused (503 where denial responses exist, else 403) until reopened."""
    try:
        await _probe(ctx, op="drain", path="/drain/hold", timeout=1)
        try:
            async with ctx.connect("/drain/hold"):
                raise AssertionError("a handshake was accepted while draining")
        except HandshakeRefused as refused:
            assert refused.status in (503, 403), refused.status
    finally:
        await _probe(ctx, op="reopen")
    async with ctx.connect("/drain/hold") as ws:
        assert await ws.receive() == "ready"


@case("drain.cancels_after_timeout")
async def cancels_after_timeout(ctx: CaseContext) -> None:
    """A handler that ignores the close is cancelled when the drain times out; ``on_disconnect`` still runs."""
    async with ctx.connect("/drain/stubborn") as ws:
        assert await ws.receive() == "ready"
        try:
            result = await _probe(ctx, op="drain", path="/drain/stubborn", timeout=0.5)
        finally:
            await _probe(ctx, op="reopen")
        assert result["drained"] == 1
        assert result["seconds"] < 5, result
    assert (await ctx.wait_events(1))[0][0] == "on_disconnect"


@case("drain.on_lifespan_shutdown", inprocess_only="it drives the application's own lifespan")
async def on_lifespan_shutdown(ctx: CaseContext) -> None:
    """The application's lifespan shutdown drains it: open sessions get 1001 and ``on_disconnect`` runs."""
    app = ctx.harness.build_app(DrainController)
    async with (
        ASGIClient(app) as client,
        ctx.connect("/drain/hold", client=client) as one,
        ctx.connect("/drain/hold", client=client) as two,
    ):
        assert await one.receive() == await two.receive() == "ready"
        await client.shutdown()
        assert await one.wait_closed() == await two.wait_closed() == (1001, "server shutting down")
    assert await ctx.wait_events(2) == [["on_disconnect", 1001, "server shutting down"]] * 2
