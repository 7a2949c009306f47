"""``Outbox``: a session's outgoing side, a bounded queue in front of the connection.

When nothing is being written, a send writes at once in the caller's task (no
queue, no task switch). While a write is in progress (the client reads slowly,
or several tasks send at once), messages wait in a bounded queue that a writer
task empties in order. When the queue is full, the session's ``overflow``
policy decides: ``block`` the sender until there is room (up to
``send_timeout``), ``drop_oldest`` queued message, or ``close`` the session with
1013. A write the server has not finished within ``send_timeout`` is found by
the session's watchdog (see :mod:`pyfly_ws.supervisor`), which closes with 1013.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .close_codes import CloseCode
from .exceptions import SessionClosedError, WebSocketDisconnect
from .limits import Limits

__all__ = ["Outbox"]

logger = logging.getLogger("pyfly_ws")

Write = Callable[[str | bytes], Awaitable[None]]
Fail = Callable[[str], None]
Spawn = Callable[..., Any]


class Outbox:
    """Messages on their way to one client, in the order they were sent."""

    __slots__ = (
        "_write",
        "_fail",
        "_spawn",
        "_queue",
        "_limits",
        "_room",
        "_writer_due",
        "closed",
        "writing",
        "since",
        "dropped",
    )

    def __init__(self, write: Write, fail: Fail, limits: Limits, spawn: Spawn | None) -> None:
        self._write = write
        self._fail = fail
        self._spawn = spawn
        self._limits = limits
        self._queue: deque[str | bytes] = deque()
        self._room: anyio.Event | None = None
        self._writer_due = False
        self.closed = False
        """Whether the session closed: nothing more is written."""
        self.writing = False
        """Whether a write is in progress (the watchdog times it from :attr:`since`)."""
        self.since = 0.0
        """When the write in progress started (``time.monotonic()``)."""
        self.dropped = 0
        """Messages discarded by the ``drop_oldest`` policy."""

    def __len__(self) -> int:
        return len(self._queue)

    async def send(self, data: str | bytes) -> None:
        """Write ``data`` now if the line is free, else queue it; raises once the session must close."""
        if not self.writing and not self._queue:
            self.writing = True
            self.since = time.monotonic()
            try:
                await self._write(data)
            finally:
                self.writing = False
                if self._room is not None:
                    self._release()
            if self._queue:
                await self._flush_later()
            return
        if len(self._queue) >= self._limits.send_queue:
            refused = await self._make_room()
            if refused is not None:
                self._fail(refused)
                raise SessionClosedError("send", CloseCode.TRY_AGAIN_LATER, refused)
        self._queue.append(data)
        if not self.writing:
            await self._flush_later()

    def post(self, data: str | bytes) -> bool:
        """Queue ``data`` without waiting; ``False`` if the session is being closed instead.

        A full queue drops its oldest message under ``drop_oldest``; under
        ``block`` or ``close`` the client is too slow, and the session is closed with 1013.
        """
        if self._spawn is None:
            raise RuntimeError("post() needs a session served by pyfly-ws (one with a supervisor)")
        if len(self._queue) >= self._limits.send_queue:
            if self._limits.overflow != "drop_oldest":
                self._fail(f"send queue full ({self._limits.send_queue} messages)")
                return False
            self._drop_oldest()
        self._queue.append(data)
        if not self.writing and not self._writer_due:
            self._writer_due = True
            self._spawn(self._drain)
        return True

    async def flush(self, within: float | None) -> None:
        """Wait until every queued message is written, for at most ``within`` seconds."""
        with anyio.move_on_after(within):
            while (self._queue or self.writing) and not self.closed:
                if self._room is None:
                    self._room = anyio.Event()
                await self._room.wait()

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

    async def _flush_later(self) -> None:
        if self._spawn is None:
            await self._drain()  # no supervisor to run a writer: the sender writes the backlog itself
        elif not self._writer_due:
            self._writer_due = True
            self._spawn(self._drain)

    async def _drain(self) -> None:
        """Write queued messages in order until the queue is empty (the writer task)."""
        self._writer_due = False
        if self.writing:
            return
        self.writing = True
        try:
            while self._queue and not self.closed:
                data = self._queue.popleft()
                self._release()
                self.since = time.monotonic()
                await self._write(data)
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
