"""``Supervisor``: what runs beside one session's handler.

Each session served by pyfly-ws runs inside a task group of its own. Beside
the handler it may hold the outbox's writer task and one watchdog task that
enforces the time limits (``idle_timeout``, ``first_message_timeout``,
``send_timeout``) by comparing timestamps the session keeps, so the message
path itself never sets a timer. When a limit is hit, or the application
drains, the supervisor closes the session and, if the handler does not finish
within :data:`CLOSE_GRACE` seconds, cancels it: a handler stuck on a client
that stopped reading cannot hold the server.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from .close_codes import CloseCode

if TYPE_CHECKING:
    from .endpoint import Endpoint
    from .session import WebSocketSession

__all__ = ["CLOSE_GRACE", "Supervisor"]

logger = logging.getLogger("pyfly_ws")

CLOSE_GRACE = 1.0
"""Seconds a server-initiated close may take, and the handler may then run on, before the handler is cancelled."""


class Supervisor:
    """The task group, watchdog and forced close of one session."""

    __slots__ = ("endpoint", "session", "_group", "_watching", "_finished", "_done")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.session: WebSocketSession | None = None
        self._group: TaskGroup | None = None
        self._watching = False
        self._finished = False
        self._done: anyio.Event | None = None

    @property
    def finished(self) -> bool:
        """Whether the handler and ``on_disconnect`` are done."""
        return self._finished

    def finish(self) -> None:
        """Mark the session done (the lifecycle calls this last) and wake anyone draining it."""
        self._finished = True
        if self._done is not None:
            self._done.set()

    async def wait_finished(self) -> None:
        """Wait until :meth:`finish`."""
        if not self._finished:
            if self._done is None:
                self._done = anyio.Event()
            await self._done.wait()

    async def run(self, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``body`` (the handler) with this session's helper tasks beside it; they end with it."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                await body()
            finally:
                self._group = None
                group.cancel_scope.cancel()

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Start ``func(*args)`` beside the handler; ignored once the handler has finished."""
        if self._group is not None:
            self._group.start_soon(func, *args)

    def accepted(self) -> None:
        """The handshake was accepted: start the watchdog if a time limit applies."""
        limits = self.endpoint.policy.limits
        if not self._watching and (
            limits.idle_timeout is not None
            or limits.first_message_timeout is not None
            or limits.send_timeout is not None
        ):
            self._watching = True
            self.spawn(self._watch)

    async def close(self, code: int, reason: str, limit: str | None = None) -> None:
        """Close the session from outside the handler; cancel the handler if it does not end in time."""
        if limit is not None:
            logger.info("%s: closing with %s: %s (limit %s)", self.endpoint.qualname, code, reason, limit)
        group = self._group
        if not await self._send_close(code, reason):
            self._cut(group, "the server did not take the close frame")
            return
        await anyio.sleep(CLOSE_GRACE)  # cancelled with the group as soon as the handler ends
        self._cut(group, f"handler still running {CLOSE_GRACE}s after close")

    async def drain(self, reason: str, deadline: float) -> bool:
        """Close with 1001 and wait for the handler and ``on_disconnect`` until ``deadline``; ``False`` if cut."""
        group = self._group
        if not await self._send_close(CloseCode.GOING_AWAY, reason):
            self._cut(group, "the server did not take the close frame")
        with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
            await self.wait_finished()
        if self._finished:
            return True
        self._cut(group, "drain timeout")
        await self.wait_finished()
        return False

    async def _send_close(self, code: int, reason: str) -> bool:
        """Mark the session closed and send the close frame; ``False`` if the server did not take it in time.

        Some servers (granian) hold a close frame while the handler waits in
        ``receive``, and any server holds it behind a full buffer; the frame is
        then left due, and the lifecycle sends it once the handler is cut.
        """
        session = self.session
        if session is None:
            return True
        if not session.closed:
            session._mark_closed(code, reason)
        with anyio.move_on_after(CLOSE_GRACE):
            try:
                await session._send_close_frame()
            except Exception:
                logger.debug("closing %s failed", session.path, exc_info=True)
            return True
        session._frame_due = True
        return False

    def _cut(self, group: TaskGroup | None, why: str) -> None:
        if group is not None and not group.cancel_scope.cancel_called:
            logger.info("%s: cancelling the handler: %s", self.endpoint.qualname, why)
            group.cancel_scope.cancel()
            if self.session is not None and not self.session._peer_gone:
                # Granian drops a close frame sent while the handler waits in receive; once the
                # handler is cancelled nothing waits, and the lifecycle sends the frame again.
                self.session._frame_due = True

    async def _watch(self) -> None:
        """Close the session when a time limit expires; sleeps until the nearest deadline."""
        session = self.session
        if session is None:
            return
        limits = self.endpoint.policy.limits
        outbox = session._outbox
        while not session.closed:
            now = time.monotonic()
            wake = math.inf
            if limits.first_message_timeout is not None and not session._heard:
                due = session._last_in + limits.first_message_timeout
                if now >= due:
                    text = f"no message within {limits.first_message_timeout:g} s"
                    await self.close(CloseCode.POLICY_VIOLATION, text, "first_message_timeout")
                    return
                wake = due
            if limits.idle_timeout is not None:
                due = session._last_in + limits.idle_timeout
                if now >= due:
                    await self.close(CloseCode.GOING_AWAY, f"idle for {limits.idle_timeout:g} s", "idle_timeout")
                    return
                wake = min(wake, due)
            if limits.send_timeout is not None:
                if outbox.writing:
                    due = outbox.since + limits.send_timeout
                    if now >= due:
                        text = f"client not reading for {limits.send_timeout:g} s"
                        await self.close(CloseCode.TRY_AGAIN_LATER, text, "send_timeout")
                        return
                else:
                    due = now + limits.send_timeout / 2  # a write starting now is timed from the next look
                wake = min(wake, due)
            if wake == math.inf:
                return
            await anyio.sleep(wake - now)
