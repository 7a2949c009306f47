"""``Outbox``: writes at once when the line is free, queues in order when not, and applies the overflow policy."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from pyfly_ws import Limits, SessionClosedError, WebSocketSession
from pyfly_ws.session.outbox import Outbox
from pyfly_ws.session.wire import activity
from tests.support.fake import FakeConnection
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


class Line:
    """A connection's ``send`` that can be held, recording what was written."""

    def __init__(self) -> None:
        self.written: list[str | bytes] = []
        self.open = anyio.Event()
        self.open.set()

    async def send(self, data: str | bytes) -> None:
        if not self.open.is_set():  # an open line takes the message without a wait, as a server's buffer does
            await self.open.wait()
        self.written.append(data)

    def hold(self) -> None:
        self.open = anyio.Event()


class Spawner:
    """Runs the outbox's writers through ``spawn`` (a task group's ``start_soon``, or a recorder)."""

    def __init__(self, spawn: Callable[..., Any]) -> None:
        self._spawn = spawn

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        self._spawn(func, *args)


def outbox(line: Line, spawn: Callable[..., Any] | None, **limits: Any) -> tuple[Outbox, list[str]]:
    failures: list[str] = []
    return Outbox(line, failures.append, Limits(**limits), Spawner(spawn) if spawn else None), failures


async def test_writes_at_once_when_nothing_is_in_flight() -> None:
    line = Line()
    box, _ = outbox(line, None)
    await box.send("a")
    await box.send(b"b")
    assert line.written == ["a", b"b"]
    assert not box.writing and len(box) == 0


async def test_messages_sent_during_a_write_queue_in_order_and_a_writer_empties_the_queue() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, _ = outbox(line, group.start_soon)
        line.hold()
        group.start_soon(box.send, "first")
        await anyio.wait_all_tasks_blocked()
        assert box.writing
        for text in ("second", "third"):
            await box.send(text)
        assert box.post("fourth")
        assert len(box) == 3
        line.open.set()
        await box.flush(5)
    assert line.written == ["first", "second", "third", "fourth"]


async def test_drop_oldest_keeps_the_newest_and_counts_the_dropped() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, failures = outbox(line, group.start_soon, send_queue=3, overflow="drop_oldest")
        for i in range(10):
            assert box.post(str(i))
        assert box.dropped == 7
        await box.flush(5)
    assert line.written == ["7", "8", "9"]
    assert failures == []


async def test_close_policy_reports_the_overflow_and_refuses_the_message() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, failures = outbox(line, group.start_soon, send_queue=2, overflow="close")
        assert box.post("0") and box.post("1")
        assert not box.post("2")
        assert failures == ["send queue full (2 messages)"]
        with pytest.raises(SessionClosedError):
            await box.send("3")  # the writer has not run yet: the queue is still full
        assert failures == ["send queue full (2 messages)"] * 2


async def test_block_waits_for_room_then_gives_up_after_send_timeout() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, failures = outbox(line, group.start_soon, send_queue=1, send_timeout=0.2)
        line.hold()
        group.start_soon(box.send, "writing")
        await anyio.wait_all_tasks_blocked()
        await box.send("queued")
        with pytest.raises(SessionClosedError, match="closed"):
            await box.send("blocked")
        assert failures == ["send queue full for 0.2 s"]
        line.open.set()


async def test_block_proceeds_once_the_writer_makes_room() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, _ = outbox(line, group.start_soon, send_queue=1, send_timeout=5)
        line.hold()
        group.start_soon(box.send, "a")
        await anyio.wait_all_tasks_blocked()
        await box.send("b")

        async def release() -> None:
            await anyio.sleep(0.05)
            line.open.set()

        group.start_soon(release)
        await box.send("c")
        await box.flush(5)
    assert line.written == ["a", "b", "c"]


async def test_without_a_supervisor_the_sender_writes_the_backlog_and_post_is_refused() -> None:
    line = Line()
    box, _ = outbox(line, None)
    with pytest.raises(RuntimeError, match="supervisor"):
        box.post("x")


async def test_clear_releases_blocked_senders_and_stops_writing() -> None:
    line = Line()
    spawned: list[Callable[..., Coroutine[Any, Any, Any]]] = []
    box, _ = outbox(line, lambda func, *args: spawned.append(func), send_queue=1, send_timeout=5)
    line.hold()
    async with anyio.create_task_group() as group:
        group.start_soon(box.send, "a")
        await anyio.wait_all_tasks_blocked()
        await box.send("b")

        async def blocked() -> None:
            with pytest.raises(SessionClosedError):
                await box.send("c")

        group.start_soon(blocked)
        await anyio.wait_all_tasks_blocked()
        box.clear()
        line.open.set()
    assert box.closed and len(box) == 0
    assert line.written == ["a"]


class Spawned:
    """A ``spawn`` that runs each writer in a task group and remembers how many it started."""

    def __init__(self, group: anyio.abc.TaskGroup) -> None:
        self.group = group
        self.count = 0

    def __call__(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        self.count += 1
        self.group.start_soon(func, *args)


async def test_an_eager_post_to_an_idle_line_writes_at_once_without_a_task() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        spawn = Spawned(group)
        box, _ = outbox(line, spawn)
        box.eager = True
        for text in ("a", "b", "c"):
            assert box.post(text, eager=True)
            assert line.written[-1] == text  # written before post() returned
        assert spawn.count == 0 and not box.writing and len(box) == 0


async def test_an_eager_write_that_must_wait_is_finished_by_a_writer_then_the_queue_follows_in_order() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        spawn = Spawned(group)
        box, _ = outbox(line, spawn)
        box.eager = True
        line.hold()
        assert box.post("first", eager=True)  # starts, then waits on the held line
        assert box.writing and spawn.count == 1 and line.written == []
        assert box.post("second", eager=True)  # the line is busy: it queues
        assert box.post("third")
        assert len(box) == 2
        line.open.set()
        await box.flush(5)
    assert line.written == ["first", "second", "third"]
    assert spawn.count == 1  # the writer that finished "first" wrote the rest too
    assert not box.writing


async def test_a_waiting_eager_write_is_cancelled_with_its_writer() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        box, _ = outbox(line, Spawned(group))
        box.eager = True
        line.hold()
        assert box.post("stuck", eager=True)
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()  # the session ended: its helpers are cancelled
    assert line.written == [] and not box.writing


async def test_without_eager_or_on_a_plain_post_every_message_goes_through_the_writer() -> None:
    line = Line()
    async with anyio.create_task_group() as group:
        spawn = Spawned(group)
        box, _ = outbox(line, spawn)
        assert box.post("a", eager=True)  # box.eager is off (trio, or no event loop check): queued
        assert line.written == [] and len(box) == 1
        box.eager = True
        assert box.post("b")  # a plain post always queues
        await box.flush(5)
    assert line.written == ["a", "b"] and spawn.count == 1


class HeldConnection(FakeConnection):
    """A fake connection whose ``send`` waits while ``line`` is held."""

    def __init__(self) -> None:
        super().__init__()
        self.line = Line()

    async def send(self, data: str | bytes) -> None:
        await self.line.send(data)
        await super().send(data)


async def test_a_session_makes_its_outbox_only_when_a_message_has_to_wait() -> None:
    connection = HeldConnection()
    session = WebSocketSession(connection)
    await session.accept()
    for text in ("a", "b"):
        await session.send_text(text)
    await session.send_bytes(b"c")
    assert connection.sent == ["a", "b", b"c"]
    assert session._outbox is None  # nothing ever waited: no outbox was made
    assert activity(session).writing_since is None

    connection.line.hold()
    async with anyio.create_task_group() as group:
        group.start_soon(session.send_text, "held")
        await eventually(lambda: activity(session).writing_since is not None)  # send_timeout sees this write
        assert session._outbox is None
        await session.send_text("queued")  # the line is busy: this one waits in an outbox, made now
        await session.send_bytes(b"queued too")
        assert session._outbox is not None and session.pending == 2
        assert activity(session).writing_since is not None  # the outbox took the write on its way over
        connection.line.open.set()
    assert connection.sent == ["a", "b", b"c", "held", "queued", b"queued too"]
    assert session.pending == 0 and activity(session).writing_since is None


async def test_a_close_waits_for_a_write_on_its_way_without_an_outbox() -> None:
    connection = HeldConnection()
    session = WebSocketSession(connection)
    await session.accept()
    connection.line.hold()
    async with anyio.create_task_group() as group:
        group.start_soon(session.send_text, "held")
        await eventually(lambda: activity(session).writing_since is not None)
        group.start_soon(session.close, 4000, "done")
        await anyio.sleep(0.01)
        assert connection.closed is None  # the close waits for the message on its way
        connection.line.open.set()
    assert connection.sent == ["held"] and connection.closed == (4000, "done")
