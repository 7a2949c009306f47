"""Concurrency: hundreds of sessions at once, and sending while receiving on one session."""

from __future__ import annotations

import anyio

from pyfly_ws import WebSocketDisconnect, WebSocketSession, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case

SESSIONS = 200


@rest_controller
@request_mapping("/concurrency")
class ConcurrencyController:
    """Echo, a ticker that talks while it listens, and a relay between sessions."""

    def __init__(self) -> None:
        self.waiting: dict[str, WebSocketSession] = {}

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/ticker")
    async def ticker(self, session: WebSocketSession) -> None:
        await session.accept()

        async def tick() -> None:
            for i in range(50):
                await session.send_text(f"tick {i}")
                await anyio.sleep(0.001)

        async with anyio.create_task_group() as group:
            group.start_soon(tick)
            try:
                async for text in session.iter_text():
                    await session.send_text(f"echo {text}")
            finally:
                group.cancel_scope.cancel()

    @websocket_mapping("/relay/{pair}/{role}")
    async def relay(self, session: WebSocketSession) -> None:
        pair, role = session.path_params["pair"], session.path_params["role"]
        await session.accept()
        if role == "listener":
            self.waiting[pair] = session
            try:
                await session.send_text("listening")
                await session.receive()
            except WebSocketDisconnect:
                pass
            finally:
                self.waiting.pop(pair, None)
        else:
            async for text in session.iter_text():
                await self.waiting[pair].send_text(f"relayed {text}")


@case("concurrency.many_sessions")
async def many_sessions(ctx: CaseContext) -> None:
    """Two hundred sessions open at once, each exchanging five messages, all correct."""
    results: list[bool] = []

    async def one(n: int) -> None:
        async with ctx.connect("/concurrency/echo") as ws:
            for i in range(5):
                await ws.send_text(f"{n}:{i}")
                assert await ws.receive_text(timeout=30) == f"{n}:{i}"
        results.append(True)

    async with anyio.create_task_group() as group:
        for n in range(SESSIONS):
            group.start_soon(one, n)
    assert len(results) == SESSIONS


@case("concurrency.send_while_receiving")
async def send_while_receiving(ctx: CaseContext) -> None:
    """One task sends on a session while another receives on it; both streams arrive whole and in order."""
    async with ctx.connect("/concurrency/ticker") as ws:
        for i in range(20):
            await ws.send_text(str(i))
        got = [await ws.receive_text() for _ in range(70)]
    ticks = [m for m in got if m.startswith("tick ")]
    echoes = [m for m in got if m.startswith("echo ")]
    assert ticks == [f"tick {i}" for i in range(50)]
    assert echoes == [f"echo {i}" for i in range(20)]


@case("concurrency.send_to_another_session")
async def send_to_another_session(ctx: CaseContext) -> None:
    """A handler may send on a session another connection opened (the broadcast pattern)."""
    async with ctx.connect(f"/concurrency/relay/{ctx.token}/listener") as listener:
        assert await listener.receive_text() == "listening"
        async with ctx.connect(f"/concurrency/relay/{ctx.token}/speaker") as speaker:
            for word in ("one", "two"):
                await speaker.send_text(word)
                assert await listener.receive_text() == f"relayed {word}"
