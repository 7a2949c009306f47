"""Sends from another task never wait for the receiving client; a handler's own sends keep their backpressure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from pyfly_ws import (
    Container,
    Limits,
    SessionClosedError,
    WebSocketSession,
    WebSocketStateError,
    create_app,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.testing import ASGIClient

pytestmark = pytest.mark.anyio

SEND_TIMEOUT = 2.0
SMALL = Limits(send_queue=4, send_timeout=SEND_TIMEOUT)


@rest_controller
@request_mapping("/ws")
class Members:
    """``/member`` sessions wait to be sent to; ``/push`` sends to all of them from its own handler."""

    def __init__(self) -> None:
        self.members: list[WebSocketSession] = []
        self.pending: list[WebSocketSession] = []
        self.outcome: list[object] = []

    @websocket_mapping("/member", limits=SMALL)
    async def member(self, session: WebSocketSession) -> None:
        await session.accept()
        self.members.append(session)
        async for _ in session.iter_text():
            pass

    @websocket_mapping("/pending")
    async def pending_member(self, session: WebSocketSession) -> None:
        self.pending.append(session)  # never accepted while /push runs
        await anyio.sleep(5)

    @websocket_mapping("/push")
    async def push(self, session: WebSocketSession) -> None:
        await session.accept()
        count = int(session.query_params.get("n", "50"))
        started = time.monotonic()
        for i in range(count):
            for member in list(self.members):
                await member.send_text(f"m{i}")
        self.outcome.append(time.monotonic() - started)
        for member in self.pending:
            try:
                await member.send_text("too early")
            except WebSocketStateError as exc:
                self.outcome.append(exc)
        await session.close()

    @websocket_mapping("/own", limits=SMALL)
    async def own(self, session: WebSocketSession) -> None:
        await session.accept()

        async def child() -> None:  # a task the handler started is the session's own
            for i in range(50):
                await session.send_text(f"c{i}")

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(child)
        except* SessionClosedError as caught:
            self.outcome.append(caught.exceptions[0])


async def test_a_send_from_another_handler_does_not_wait_for_a_stalled_client() -> None:
    controller = Members()
    client = ASGIClient(app_of(controller))
    client.buffer = 2  # the in-process client holds two unread messages, then the app's writes wait
    async with client, client.connect("/ws/member") as stalled:
        async with client.connect("/ws/push", query={"n": "50"}) as pusher:
            assert await pusher.wait_closed() == (1000, "")
        assert await stalled.wait_closed(timeout=5) == (1013, "send queue full (4 messages)")
    [elapsed] = controller.outcome
    assert isinstance(elapsed, float)
    assert elapsed < SEND_TIMEOUT / 2, f"the pusher waited {elapsed:.2f} s for a client that does not read"


async def test_a_send_from_another_handler_to_a_closed_session_is_dropped_without_raising() -> None:
    controller = Members()
    async with ASGIClient(app_of(controller)) as client:
        async with client.connect("/ws/member") as member:
            await member.send_text("hello")
            await anyio.sleep(0.05)
        await _until(lambda: controller.members[0].closed)
        async with client.connect("/ws/push", query={"n": "3"}) as pusher:
            assert await pusher.wait_closed() == (1000, "")  # not 1011: the handler did not raise
    assert len(controller.outcome) == 1


async def test_a_send_from_another_handler_before_accept_still_raises() -> None:
    controller = Members()
    async with ASGIClient(app_of(controller)) as client, anyio.create_task_group() as group:
        group.start_soon(_try_connect, client, "/ws/pending")
        await _until(lambda: bool(controller.pending))
        async with client.connect("/ws/push", query={"n": "0"}) as pusher:
            assert await pusher.wait_closed() == (1000, "")
        group.cancel_scope.cancel()
    [_, refused] = controller.outcome
    assert isinstance(refused, WebSocketStateError)


async def test_a_task_the_handler_started_keeps_the_backpressure_of_its_own_sends() -> None:
    controller = Members()
    client = ASGIClient(app_of(controller))
    client.buffer = 2
    async with client, client.connect("/ws/own") as ws:
        await anyio.sleep(SEND_TIMEOUT + 0.5)  # read nothing while the child's sends wait for room
        code, reason = await ws.wait_closed(timeout=5)
    # Closed after waiting send_timeout (by the blocked send or by the stalled write), not at once for a full queue.
    assert (code, reason) in {(1013, "send queue full for 2 s"), (1013, "client not reading for 2 s")}
    [failure] = controller.outcome
    assert isinstance(failure, SessionClosedError)


def app_of(controller: Members) -> Any:
    container = Container()
    container.register_instance(controller)
    return create_app(container)


async def _try_connect(client: ASGIClient, path: str) -> None:
    try:
        async with client.connect(path):
            pass
    except Exception:
        pass


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    with anyio.fail_after(within):
        while not condition():  # noqa: ASYNC110  (a condition of the app's, with no event to wait on)
            await anyio.sleep(0.01)
