"""The timekeeper: one task per registry enforces every session's time limits, and ends when none is left."""

from __future__ import annotations

import gc

import anyio
import pytest

from pyfly_ws import Limits, SessionRegistry, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.lifecycle.timekeeper import LINGER
from pyfly_ws.testing import ASGIClient

pytestmark = pytest.mark.anyio


@rest_controller
class Timed:
    @websocket_mapping("/echo", limits=Limits(send_timeout=0.4))
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/idle", limits=Limits(idle_timeout=0.3, send_timeout=None))
    async def idle(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)


async def _wait_until(check: object, within: float) -> float:
    """Seconds until ``check()`` holds, polled every 20 ms; fails after ``within`` seconds."""
    started = anyio.current_time()
    while not check():  # type: ignore[operator]
        if anyio.current_time() - started > within:
            raise AssertionError(f"not within {within} s")
        await anyio.sleep(0.02)
    return anyio.current_time() - started


async def test_one_task_watches_many_sessions_and_ends_after_the_last_one() -> None:
    registry = SessionRegistry()
    app = create_app(Timed, registry=registry)
    async with ASGIClient(app) as client:
        assert not registry.timekeeper.running
        async with client.connect("/echo") as a, client.connect("/echo") as b:
            await a.send_text("x")
            assert await a.receive_text() == "x"
            await b.send_text("y")
            assert await b.receive_text() == "y"
            assert registry.timekeeper.running  # started by the first accept, shared by both
        # Both left: it looks again within a quarter of the shortest limit, then lingers and ends.
        await _wait_until(lambda: not registry.timekeeper.running, 0.4 / 4 + LINGER + 1.0)
        async with client.connect("/echo") as c:  # and starts again with the next session
            await c.send_text("z")
            assert await c.receive_text() == "z"
            assert registry.timekeeper.running


async def test_idle_timeout_is_enforced_by_the_timekeeper_and_activity_keeps_a_session_open() -> None:
    app = create_app(Timed)
    async with ASGIClient(app) as client, client.connect("/idle") as busy, client.connect("/idle") as quiet:
        for _ in range(6):  # 0.6 s of traffic, twice the idle timeout
            await busy.send_text("ping")
            assert await busy.receive_text() == "ping"
            await anyio.sleep(0.1)
        assert await quiet.wait_closed(2.0) == (1001, "idle for 0.3 s")
        await busy.send_text("still here")
        assert await busy.receive_text() == "still here"


async def test_a_finished_session_leaves_no_garbage_for_the_cycle_collector() -> None:
    """A session, its supervisor, outbox and connection are freed by reference counting alone."""
    app = create_app(Timed)
    async with ASGIClient(app) as client:
        async with client.connect("/echo") as ws:  # warm: imports, the controller
            await ws.send_text("warm")
            await ws.receive_text()
        gc.collect()
        gc.disable()
        try:
            # Sessions other tests left alive (a probe may hold one) are not this test's to count.
            before = {id(o) for o in gc.get_objects() if isinstance(o, WebSocketSession)}
            for _ in range(20):
                async with client.connect("/echo") as ws:
                    await ws.send_text("x")
                    assert await ws.receive_text() == "x"
            await anyio.sleep(0.05)
            found = [o for o in gc.get_objects() if isinstance(o, WebSocketSession) and id(o) not in before]
            assert found == [], f"{len(found)} sessions are only reachable through reference cycles"
        finally:
            gc.enable()
