"""Limits on what a client may send: message size, rate, idle time, time to the first message."""

from __future__ import annotations

import anyio

from pyfly_ws import (
    LimitExceededError,
    Limits,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)

from ..context import CaseContext
from ..registry import case
from ._support import record


async def _echo(session: WebSocketSession) -> None:
    await session.accept()
    try:
        while True:
            await session.send(await session.receive())
    except LimitExceededError as exc:
        record(session, ["limit", exc.limit, exc.close_code])
        raise


@rest_controller
@request_mapping("/limits")
@websocket_policy(limits=Limits(max_message_size=4096))
class LimitsController:
    """Echo endpoints, each under other limits; the controller allows 4 KiB messages."""

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await _echo(session)

    @websocket_mapping("/small", limits=Limits(max_message_size=16))
    async def small(self, session: WebSocketSession) -> None:
        await _echo(session)

    @websocket_mapping("/unlimited", limits=Limits(max_message_size=None))
    async def unlimited(self, session: WebSocketSession) -> None:
        await _echo(session)

    @websocket_mapping("/rate", limits=Limits(rate=4, burst=3))
    async def rate(self, session: WebSocketSession) -> None:
        await _echo(session)

    @websocket_mapping("/idle", limits=Limits(idle_timeout=0.6))
    async def idle(self, session: WebSocketSession) -> None:
        await _echo(session)

    @websocket_mapping("/first", limits=Limits(first_message_timeout=0.6))
    async def first(self, session: WebSocketSession) -> None:
        await _echo(session)

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, ["on_disconnect", session.close_code])


async def _limit_logged(ctx: CaseContext, limit: str) -> None:
    logs = await ctx.logs()
    assert any(r["level"] == "INFO" and f"limit {limit}" in r["message"] for r in logs), logs
    assert [r for r in logs if r["level"] in ("WARNING", "ERROR")] == [], logs


@case("limits.message_too_big", server_requires=("protocol_close_codes",))
async def message_too_big(ctx: CaseContext) -> None:
    """A message over ``max_message_size`` closes the session with 1009, logged at INFO; one at the limit passes."""
    async with ctx.connect("/limits/echo") as ws:
        await ws.send_bytes(b"x" * 4096)
        assert await ws.receive() == b"x" * 4096
        await ws.send_bytes(b"x" * 4097)
        assert (await ws.wait_closed())[0] == 1009
    assert await ctx.wait_events(2) == [["limit", "max_message_size", 1009], ["on_disconnect", 1009]]
    await _limit_logged(ctx, "max_message_size")


@case("limits.text_counts_utf8_bytes", server_requires=("protocol_close_codes",))
async def text_counts_utf8_bytes(ctx: CaseContext) -> None:
    """Text is measured in UTF-8 bytes: 1,025 four-byte characters (4,100 bytes) break a 4,096-byte limit."""
    async with ctx.connect("/limits/echo") as ws:
        await ws.send_text("é" * 2048)  # 4,096 bytes
        assert await ws.receive() == "é" * 2048
        await ws.send_text("😀" * 1025)
        assert (await ws.wait_closed())[0] == 1009


@case("limits.levels", server_requires=("protocol_close_codes",))
async def levels(ctx: CaseContext) -> None:
    """An endpoint's limits replace its controller's: 16 bytes on one endpoint, no size limit on another."""
    async with ctx.connect("/limits/small") as ws:
        await ws.send_text("x" * 16)
        assert await ws.receive() == "x" * 16
        await ws.send_text("x" * 17)
        assert (await ws.wait_closed())[0] == 1009
    async with ctx.connect("/limits/unlimited") as ws:
        await ws.send_bytes(b"y" * 100_000)
        assert await ws.receive() == b"y" * 100_000


@case("limits.rate", server_requires=("protocol_close_codes",))
async def rate(ctx: CaseContext) -> None:
    """Past the token bucket (``rate=4``, ``burst=3``) the session closes with 1008; a client within it is served."""
    async with ctx.connect("/limits/rate") as ws:
        for i in range(4):
            await ws.send_text(str(i))
        assert [await ws.receive() for _ in range(3)] == ["0", "1", "2"]
        assert (await ws.wait_closed())[0] == 1008
    assert (await ctx.wait_events(1))[0] == ["limit", "rate", 1008]
    await _limit_logged(ctx, "rate")
    async with ctx.connect("/limits/rate") as ws:
        for i in range(6):
            await ws.send_text(str(i))
            assert await ws.receive() == str(i)
            await anyio.sleep(0.3)


@case("limits.idle_timeout", server_requires=("protocol_close_codes", "close_reason"))
async def idle_timeout(ctx: CaseContext) -> None:
    """No message for ``idle_timeout`` seconds closes with 1001 and a reason; messages keep a session open."""
    async with ctx.connect("/limits/idle") as ws:
        for _ in range(4):
            await ws.send_text("still here")
            assert await ws.receive() == "still here"
            await anyio.sleep(0.3)
        started = anyio.current_time()
        assert await ws.wait_closed() == (1001, "idle for 0.6 s")
        assert anyio.current_time() - started >= 0.25
    assert await ctx.wait_events(1) == [["on_disconnect", 1001]]
    await _limit_logged(ctx, "idle_timeout")


@case("limits.first_message_timeout", server_requires=("protocol_close_codes", "close_reason"))
async def first_message_timeout(ctx: CaseContext) -> None:
    """A client that says nothing within ``first_message_timeout`` is closed with 1008; one that speaks stays."""
    async with ctx.connect("/limits/first") as ws:
        assert await ws.wait_closed() == (1008, "no message within 0.6 s")
    await _limit_logged(ctx, "first_message_timeout")
    async with ctx.connect("/limits/first") as ws:
        await ws.send_text("hello")
        assert await ws.receive() == "hello"
        await anyio.sleep(1.0)
        await ws.send_text("later")
        assert await ws.receive() == "later"
