"""The close-code contract and lifecycle hooks, driven through the core with a fake connection."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from pyfly_ws import (
    Container,
    Endpoint,
    WebSocketDisconnect,
    WebSocketSession,
    discover,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from tests.support.fake import FakeConnection

pytestmark = pytest.mark.anyio


@rest_controller
@request_mapping("/ws")
class Scenarios:
    def __init__(self) -> None:
        self.disconnects: list[WebSocketSession] = []

    @websocket_mapping("/returns")
    async def returns(self, session: WebSocketSession) -> None:
        await session.accept()

    @websocket_mapping("/loops")
    async def loops(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_text(await session.receive_text())

    @websocket_mapping("/raises")
    async def raises(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("handler bug")

    @websocket_mapping("/raises-early")
    async def raises_early(self, session: WebSocketSession) -> None:
        raise RuntimeError("guard bug")

    @websocket_mapping("/never-accepts")
    async def never_accepts(self, session: WebSocketSession) -> None:
        return

    @websocket_mapping("/wants-text")
    async def wants_text(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.receive_text()

    @websocket_mapping("/wants-json")
    async def wants_json(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.receive_json()

    @websocket_mapping("/closes")
    async def closes(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4001, "custom")

    def on_disconnect(self, session: WebSocketSession) -> None:
        self.disconnects.append(session)


def endpoint(path: str, source: Any = Scenarios) -> Endpoint:
    return next(e for e in discover(source) if e.path == path)


async def run(path: str, *incoming: str | bytes, source: Any = Scenarios) -> FakeConnection:
    conn = FakeConnection(incoming=list(incoming))
    await endpoint(path, source).run(conn, {})
    return conn


@pytest.mark.parametrize(
    ("path", "incoming", "closed", "level"),
    [
        ("/ws/returns", [], (1000, ""), None),
        ("/ws/loops", ["a", "b"], None, None),  # the peer left: nothing to send back
        ("/ws/raises", [], (1011, ""), logging.WARNING),
        ("/ws/wants-text", [b"bytes"], (1003, "expected a text message, received a binary one"), logging.INFO),
        ("/ws/wants-json", ["{bad"], None, logging.INFO),
        ("/ws/closes", [], (4001, "custom"), None),
    ],
)
async def test_outcomes_after_accept(
    caplog: pytest.LogCaptureFixture, path: str, incoming: list[str | bytes], closed: Any, level: int | None
) -> None:
    caplog.set_level(logging.DEBUG, "pyfly_ws")
    conn = await run(path, *incoming)
    assert conn.accepted is not None
    if path == "/ws/wants-json":
        assert conn.closed is not None and conn.closed[0] == 1007
    else:
        assert conn.closed == closed
    above_debug = [r for r in caplog.records if r.levelno > logging.DEBUG]
    if level is None:
        assert above_debug == []
    else:
        assert [r.levelno for r in above_debug] == [level]
        assert "Scenarios." in above_debug[0].getMessage()
        assert (above_debug[0].exc_info is not None) == (level == logging.WARNING)


async def test_echo_loop_sends_and_ends_on_disconnect() -> None:
    conn = await run("/ws/loops", "a", "b")
    assert conn.sent == ["a", "b"]


@pytest.mark.parametrize(("path", "logged"), [("/ws/raises-early", True), ("/ws/never-accepts", False)])
async def test_no_accept_means_refusal(caplog: pytest.LogCaptureFixture, path: str, logged: bool) -> None:
    conn = await run(path)
    assert conn.accepted is None
    assert conn.closed is not None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert bool(warnings) == logged
    if logged:
        assert "before accept" in warnings[0].getMessage() and warnings[0].exc_info


async def test_on_disconnect_runs_once_for_accepted_sessions_only() -> None:
    container = Container()
    container.register(Scenarios)
    for path in ("/ws/returns", "/ws/loops", "/ws/raises", "/ws/closes", "/ws/never-accepts", "/ws/raises-early"):
        await run(path, "x", source=container)
    sessions = container.resolve(Scenarios).disconnects
    assert [s.path for s in sessions] == ["/ws/x"] * 4
    assert len({id(s) for s in sessions}) == 4


async def test_async_on_disconnect_and_errors_in_it(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    @rest_controller
    class Hooked:
        @websocket_mapping("/a")
        async def a(self, session: WebSocketSession) -> None:
            await session.accept()

        async def on_disconnect(self, session: WebSocketSession) -> None:
            calls.append("async")
            raise ValueError("cleanup bug")

    conn = await run("/a", source=Hooked)
    assert calls == ["async"]
    assert conn.closed == (1000, "")
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "on_disconnect of" in record.getMessage() and record.exc_info is not None


async def test_controller_resolved_lazily_once_under_concurrent_first_connections() -> None:
    built: list[int] = []

    @rest_controller
    class Slow:
        @websocket_mapping("/slow")
        async def slow(self, session: WebSocketSession) -> None:
            await session.accept()

    class Source:
        def controllers(self) -> list[type]:
            return [Slow]

        async def resolve(self, cls: type) -> Any:
            built.append(1)
            await anyio.sleep(0.05)
            return cls()

    ep = endpoint("/slow", Source())
    assert built == []  # discovery does not build controllers
    conns = [FakeConnection() for _ in range(50)]
    async with anyio.create_task_group() as tg:
        for conn in conns:
            tg.start_soon(ep.run, conn, {})
    assert built == [1]
    assert all(c.closed == (1000, "") for c in conns)


async def test_unresolvable_controller_refuses_and_logs_error(caplog: pytest.LogCaptureFixture) -> None:
    @rest_controller
    class NeedsMissing:
        def __init__(self) -> None:
            raise LookupError("no connection to the database")  # fails when built, on the first connection

        @websocket_mapping("/m")
        async def m(self, session: WebSocketSession) -> None:
            await session.accept()

    conn = await run("/m", source=NeedsMissing)
    assert conn.accepted is None and conn.closed is not None
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "NeedsMissing.m" in record.getMessage() and record.exc_info is not None


async def test_raw_params_converted_or_refused() -> None:
    seen: list[Any] = []

    @rest_controller
    class Typed:
        @websocket_mapping("/t/{n:int}")
        async def t(self, session: WebSocketSession) -> None:
            seen.append(session.path_params["n"])
            await session.accept()

    ep = endpoint("/t/{n:int}", Typed)
    ok = FakeConnection()
    await ep.serve(ok, {"n": "42"})
    bad = FakeConnection()
    await ep.serve(bad, {"n": "forty"})
    assert seen == [42]
    assert ok.accepted is not None and bad.accepted is None and bad.closed is not None


async def test_uncaught_disconnect_is_a_normal_end(caplog: pytest.LogCaptureFixture) -> None:
    @rest_controller
    class Leaves:
        @websocket_mapping("/l")
        async def l(self, session: WebSocketSession) -> None:  # noqa: E743
            await session.accept()
            raise WebSocketDisconnect(1001)

    conn = await run("/l", source=Leaves)
    assert conn.closed == (1000, "")
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
