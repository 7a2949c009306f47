"""``Outbox``: a session's outgoing side, a bounded queue in front of the connection.

When nothing is being written, a send writes at once in the caller's task (no
queue, no task switch). While a write is in progress (the client reads slowly,
or several tasks send at once), messages wait in a bounded queue that a writer
task empties in order. When the queue is full, the session's ``overflow``
policy decides: ``block`` the sender until there is room (up to
``send_timeout``), ``drop_oldest`` queued message, or ``close`` the session with
1013. A write the server has not finished within ``send_timeout`` is found by
the registry's timekeeper (see :meth:`Supervisor.due <pyfly_ws.lifecycle.supervisor.Supervisor.due>`),
which closes with 1013.

A session makes its outbox only when a message first has to wait, or is
posted: until then it writes at once itself (see ``Wire._outbox_made``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Protocol

import anyio

from ..exceptions import SessionClosedError, WebSocketDisconnect
from ..mapping.limits import LIMIT_RULES, Limits

__all__ = ["Outbox"]

logger = logging.getLogger("pyfly_ws")

Fail = Callable[[str], None]

_OVERFLOWED = LIMIT_RULES["send_queue"].close_code


class Line(Protocol):
    """Where an outbox writes: a :class:`~pyfly_ws.Connection` (only its ``send`` is used)."""

    def send(self, data: str | bytes, /) -> Awaitable[None]:
        """Write one message."""
        ...


class Spawner(Protocol):
    """Who runs the outbox's writer beside the handler: the session's supervisor (in the lifecycle)."""

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Start ``func(*args)`` in a task of its own."""
        ...


def _ignore(reason: str) -> None:
    """The failure callback of a detached outbox."""


_monotonic = time.monotonic
_NO_QUEUE: deque[Any] = deque(maxlen=0)
"""Every outbox's queue until a message has to wait: empty, shared, and never appended to."""


class Outbox:
    """Messages on their way to one client, in the order they were sent."""

    __slots__ = (
        "_line",
        "_fail",
        "_spawner",
        "_queue",
        "_limits",
        "_room",
        "_writer_due",
        "closed",
        "writing",
        "since",
        "dropped",
        "eager",
    )

    def __init__(self, line: Line, fail: Fail, limits: Limits, spawner: Spawner | None) -> None:
        # The line and the spawner themselves, not their bound methods: an outbox per session
        # would otherwise hold two more small objects for as long as the session is open.
        self._line = line
        self._fail = fail
        self._spawner = spawner
        self._limits = limits
        self._queue: deque[str | bytes] = _NO_QUEUE  # a real deque from the first message that waits
        self._room: anyio.Event | None = None
        self._writer_due = False
        self.closed = False
        """Whether the session closed: nothing more is written."""
        self.writing = False
        """Whether a write is in progress (the timekeeper times it from :attr:`since`)."""
        self.since = 0.0
        """When the write in progress started (``time.monotonic()``)."""
        self.dropped = 0
        """Messages discarded by the ``drop_oldest`` policy."""
        self.eager = False
        """Whether ``post(eager=True)`` may start a write in the caller's task (asyncio only: a write
        that has to wait is finished in another task, which trio's locks and cancel scopes forbid)."""

    def __len__(self) -> int:
        return len(self._queue)

    async def send(self, data: str | bytes) -> None:
        """Write ``data`` now if the line is free, else queue it; raises once the session must close."""
        if not self.writing and not self._queue:
            self.writing = True
            self.since = _monotonic()
            try:
                await self._line.send(data)
            finally:
                self.written()
            if self._queue:
                await self.flush_later()
            return
        if len(self._queue) >= self._limits.send_queue:
            refused = await self._make_room()
            if refused is not None:
                self._fail(refused)
                raise SessionClosedError("send", _OVERFLOWED, refused)
        if self._queue is _NO_QUEUE:
            self._queue = deque()
        self._queue.append(data)
        if not self.writing:
            await self.flush_later()

    def post(self, data: str | bytes, *, eager: bool = False) -> bool:
        """Queue ``data`` without waiting; ``False`` if the session is being closed instead.

        A full queue drops its oldest message under ``drop_oldest``; under
        ``block`` or ``close`` the client is too slow, and the session is closed with 1013.
        With ``eager`` (and :attr:`eager`), an idle line is written to at once instead.
        """
        if self._spawner is None:
            raise RuntimeError("post() needs a session served by pyfly-ws (one with a supervisor)")
        if eager and self.eager and not self.writing and not self._queue and not self._writer_due:
            self._write_eagerly(data)
            return True
        if len(self._queue) >= self._limits.send_queue:
            if self._limits.overflow != "drop_oldest":
                self._fail(f"send queue full ({self._limits.send_queue} messages)")
                return False
            self._drop_oldest()
        if self._queue is _NO_QUEUE:
            self._queue = deque()
        self._queue.append(data)
        if not self.writing and not self._writer_due:
            self._writer_due = True
            self._spawner.spawn(self._drain)
        return True

    async def flush(self, within: float | None) -> None:
        """Wait until every queued message is written, for at most ``within`` seconds."""
        with anyio.move_on_after(within):
            while (self._queue or self.writing) and not self.closed:
                if self._room is None:
                    self._room = anyio.Event()
                await self._room.wait()

    def detach(self) -> None:
        """Forget the failure callback (the session ended), which would otherwise keep a cycle with its owner."""
        self._fail = _ignore

    def clear(self) -> None:
        """Forget every queued message (the session closed) and release blocked senders."""
        self.closed = True
        self._queue.clear()
        self._release()

    async def _make_room(self) -> str | None:
        """Apply the overflow policy to a full queue: ``None`` once there is room, else why the session closes."""
        limits = self._limits
        if limits.overflow == "drop_oldest":
            self._drop_oldest()
            return None
        if limits.overflow == "close":
            return f"send queue full ({limits.send_queue} messages)"
        with anyio.move_on_after(limits.send_timeout):
            while len(self._queue) >= limits.send_queue:
                if self._room is None:
                    self._room = anyio.Event()
                await self._room.wait()
            return "the session closed" if self.closed else None
        return f"send queue full for {limits.send_timeout:g} s"

    def _drop_oldest(self) -> None:
        self._queue.popleft()
        self.dropped += 1

    def written(self) -> None:
        """The write in progress ended (however): the line is free, and a sender waiting for room may go on."""
        self.writing = False
        if self._room is not None:
            self._release()

    async def flush_later(self) -> None:
        """Have the writer send what queued up while the line was busy (or send it now, without a supervisor)."""
        if self._spawner is None:
            await self._drain()  # no supervisor to run a writer: the sender writes the backlog itself
        elif not self._writer_due:
            self._writer_due = True
            self._spawner.spawn(self._drain)

    def _write_eagerly(self, data: str | bytes) -> None:
        """Run a write now, in the caller's task, up to its first wait; one that must wait goes on in a writer task.

        Most writes never wait (the server takes the frame into its buffer at
        once), so a fan-out to a thousand idle members starts no task at all,
        while a member whose client reads slowly still holds up no one.
        """
        write = self._line.send(data)
        rest: Awaitable[Any] = write
        if isinstance(write, Coroutine):
            try:
                waiting_on = write.send(None)
            except StopIteration:
                return
            except WebSocketDisconnect:
                return  # the client is gone: the session hears of it from its own receive
            except Exception:
                logger.warning("writing a posted message failed", exc_info=True)
                return
            rest = _Resumed(write, waiting_on)
        self.writing = True
        self.since = time.monotonic()
        self._writer_due = True
        assert self._spawner is not None  # post() checked
        self._spawner.spawn(self._drain, rest)

    async def _drain(self, begun: Awaitable[Any] | None = None) -> None:
        """Write queued messages in order until the queue is empty (the writer task).

        ``begun`` is the rest of a write that started eagerly: it is finished first.
        """
        self._writer_due = False
        if self.writing and begun is None:
            return
        self.writing = True
        try:
            if begun is not None:
                await begun
            while self._queue and not self.closed:
                data = self._queue.popleft()
                self._release()
                self.since = time.monotonic()
                await self._line.send(data)
        except WebSocketDisconnect:
            self._queue.clear()
        except Exception:
            logger.warning("writing a queued message failed; dropping the queue", exc_info=True)
            self._queue.clear()
        finally:
            self.writing = False
            self._release()

    def _release(self) -> None:
        if self._room is not None:
            self._room.set()
            self._room = None


class _Resumed:
    """Awaiting it goes on with a coroutine that already ran up to its first wait, on ``waiting_on``.

    What ``await write`` would have done from that point: the awaiting task
    waits on what the coroutine waits on, and hands it results and exceptions
    (a cancellation included) until it returns.
    """

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coroutine = coroutine
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, waiting_on = self._coroutine, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # thrown in by the task, a cancellation included: the coroutine decides
                try:
                    waiting_on = coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = coroutine.send(sent)
                except StopIteration as done:
                    return done.value
