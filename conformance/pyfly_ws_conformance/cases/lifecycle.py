"""Lifecycle: ``on_disconnect`` exactly once, lazy resolution exactly once, errors and their logs."""

from __future__ import annotations

import anyio

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..recorder import RECORDER
from ..registry import case
from ._support import expect_refused, record


@rest_controller
@request_mapping("/lifecycle")
class LifecycleController:
    """Records every ``on_disconnect``; endpoints end in each possible way."""

    @websocket_mapping("/returns")
    async def returns(self, session: WebSocketSession) -> None:
        await session.accept()

    @websocket_mapping("/waits")
    async def waits(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        await session.receive()

    @websocket_mapping("/raises")
    async def raises(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("handler bug")

    @websocket_mapping("/refuses")
    async def refuses(self, session: WebSocketSession) -> None:
        await session.close()

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, {"on_disconnect": session.path, "closed": session.closed})


@rest_controller
@request_mapping("/lifecycle-async")
class AsyncHookController:
    """An async ``on_disconnect`` that needs the loop, and one that fails."""

    @websocket_mapping("/ok")
    async def ok(self, session: WebSocketSession) -> None:
        await session.accept()

    @websocket_mapping("/hook-fails")
    async def hook_fails(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("bye")

    async def on_disconnect(self, session: WebSocketSession) -> None:
        await anyio.sleep(0.01)
        record(session, {"async_on_disconnect": session.path})
        if session.path.endswith("hook-fails"):
            raise RuntimeError("cleanup bug")


@rest_controller
@request_mapping("/lifecycle-lazy")
class LazyController:
    """Counts its own construction, which must happen once, on the first connection."""

    def __init__(self) -> None:
        RECORDER.record("lazy-constructions", "built")

    @websocket_mapping("")
    async def serve(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ok")


@rest_controller
@request_mapping("/lifecycle-broken")
class BrokenController:
    """Cannot be built: its constructor fails."""

    def __init__(self) -> None:
        raise RuntimeError("no database")

    @websocket_mapping("")
    async def serve(self, session: WebSocketSession) -> None:
        await session.accept()


async def _once(ctx: CaseContext, expected: dict[str, object]) -> None:
    assert await ctx.wait_events(1) == [expected]
    await anyio.sleep(0.2)  # a second, wrong call would arrive in this time
    assert await ctx.events() == [expected], "on_disconnect must run exactly once"


@case("lifecycle.on_disconnect_after_return")
async def after_return(ctx: CaseContext) -> None:
    """``on_disconnect`` runs once after the handler returns."""
    async with ctx.connect("/lifecycle/returns") as ws:
        await ws.wait_closed()
    await _once(ctx, {"on_disconnect": "/lifecycle/returns", "closed": True})


@case("lifecycle.on_disconnect_after_client_close")
async def after_client_close(ctx: CaseContext) -> None:
    """``on_disconnect`` runs once after the client closes."""
    async with ctx.connect("/lifecycle/waits") as ws:
        assert await ws.receive_text() == "ready"
        await ws.close()
    await _once(ctx, {"on_disconnect": "/lifecycle/waits", "closed": True})


@case("lifecycle.on_disconnect_after_drop")
async def after_drop(ctx: CaseContext) -> None:
    """``on_disconnect`` runs once after the connection drops without a close frame."""
    async with ctx.connect("/lifecycle/waits") as ws:
        assert await ws.receive_text() == "ready"
        await ws.abort()
    await _once(ctx, {"on_disconnect": "/lifecycle/waits", "closed": True})


@case("lifecycle.on_disconnect_after_error", server_requires=("protocol_close_codes",))
async def after_error(ctx: CaseContext) -> None:
    """``on_disconnect`` runs once after the handler raises, and the client sees 1011."""
    async with ctx.connect("/lifecycle/raises") as ws:
        assert (await ws.wait_closed())[0] == 1011
    await _once(ctx, {"on_disconnect": "/lifecycle/raises", "closed": True})


@case("lifecycle.no_on_disconnect_when_refused")
async def not_when_refused(ctx: CaseContext) -> None:
    """A refused handshake was never a session: ``on_disconnect`` does not run."""
    await expect_refused(ctx, "/lifecycle/refuses")
    await anyio.sleep(0.2)
    assert await ctx.events() == []


@case("lifecycle.async_on_disconnect")
async def async_hook(ctx: CaseContext) -> None:
    """An async ``on_disconnect`` is awaited."""
    async with ctx.connect("/lifecycle-async/ok") as ws:
        await ws.wait_closed()
    assert await ctx.wait_events(1) == [{"async_on_disconnect": "/lifecycle-async/ok"}]


@case("lifecycle.on_disconnect_error_logged")
async def hook_error(ctx: CaseContext) -> None:
    """An ``on_disconnect`` that raises changes nothing for the client and logs a WARNING with traceback."""
    async with ctx.connect("/lifecycle-async/hook-fails") as ws:
        assert await ws.receive_text() == "bye"
        assert (await ws.wait_closed())[0] == 1000
    await ctx.wait_events(1)
    with anyio.fail_after(5):
        while not (warnings := await ctx.logs("WARNING")):  # noqa: ASYNC110 - the log lives in the app's process
            await anyio.sleep(0.02)
    assert "on_disconnect" in warnings[0]["message"]
    assert warnings[0]["traceback"]


@case("lifecycle.handler_error_1011_warning", server_requires=("protocol_close_codes",))
async def handler_error(ctx: CaseContext) -> None:
    """A handler error closes with 1011 and logs one WARNING with traceback naming the endpoint."""
    async with ctx.connect("/lifecycle/raises") as ws:
        assert (await ws.wait_closed())[0] == 1011
    await ctx.wait_events(1)
    warnings = await ctx.logs("WARNING")
    assert len(warnings) == 1, warnings
    assert "LifecycleController.raises" in warnings[0]["message"]
    assert warnings[0]["traceback"]


@case("lifecycle.disconnect_is_quiet")
async def disconnect_quiet(ctx: CaseContext) -> None:
    """A client leaving is a normal end: nothing is logged above DEBUG."""
    async with ctx.connect("/lifecycle/waits") as ws:
        assert await ws.receive_text() == "ready"
        await ws.close()
    await ctx.wait_events(1)
    assert [r for r in await ctx.logs() if r["level"] not in ("DEBUG",)] == []


@case("lifecycle.lazy_resolution_once")
async def lazy_once(ctx: CaseContext) -> None:
    """The controller is built on the first connection, once, even when 30 first connections arrive together."""
    before = len(await ctx.events("lazy-constructions"))

    async def one() -> None:
        async with ctx.connect("/lifecycle-lazy") as ws:
            assert await ws.receive_text() == "ok"

    async with anyio.create_task_group() as group:
        for _ in range(30):
            group.start_soon(one)
    assert len(await ctx.events("lazy-constructions")) - before == 1


@case("lifecycle.unresolvable_controller")
async def unresolvable(ctx: CaseContext) -> None:
    """A controller that cannot be built refuses the handshake and logs an ERROR with traceback."""
    await expect_refused(ctx, "/lifecycle-broken")
    errors = await ctx.logs("ERROR")
    assert len(errors) == 1, errors
    assert "BrokenController" in errors[0]["message"]
    assert errors[0]["traceback"]
