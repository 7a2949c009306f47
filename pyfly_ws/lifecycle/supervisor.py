"""``Supervisor``: what runs beside one session's handler.

The handler runs inside its supervisor (``with supervisor:``), which can cancel it. Beside it, the session may
start *helpers* (the outbox's writer, a close from outside): tasks owned by no
task group (see :mod:`pyfly_ws.tasks`), which end with the handler. The time
limits (``idle_timeout``, ``first_message_timeout``, ``send_timeout``) are
enforced by the registry's :class:`~pyfly_ws.lifecycle.timekeeper.Timekeeper`, which asks
:meth:`Supervisor.due` when each session next needs a look, so neither the
message path nor the session holds a timer or a task for them. When a limit is
hit, or the application drains, the supervisor closes the session and, if the
handler does not finish within :data:`CLOSE_GRACE` seconds, cancels it: a
handler stuck on a client that stopped reading cannot hold the server.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol

import anyio

from ..clock import Clock
from ..mapping.auth import Principal
from ..mapping.limits import LIMIT_RULES
from ..mapping.policy import Policy
from ..session.figures import Figures
from ..session.session import Registry, WebSocketSession, credentials_of, messenger_of
from ..session.supervision import log_limit
from ..session.tracing import SessionTrace, Tracer
from ..session.wire import activity, begin_close, closed_by, finish_close, resend_close_frame, task_getter
from ..tasks import asyncio_task_getter, spawn_system_task
from .controller import LazyController
from .outcomes import DRAINED, EXPIRED, NO_TOKEN
from .timekeeper import _INF, Timekeeper, _asyncio_loop

__all__ = ["CLOSE_GRACE", "Dispatching", "Live", "Served", "Supervisor"]

logger = logging.getLogger("pyfly_ws")

# The close codes of the limits the timekeeper enforces through due() (mapping/limits.py holds the rules).
_SILENT = LIMIT_RULES["first_message_timeout"].close_code
_IDLE = LIMIT_RULES["idle_timeout"].close_code
_STALLED = LIMIT_RULES["send_timeout"].close_code

CLOSE_GRACE = 1.0
"""Seconds a server-initiated close may take, and the handler may then run on, before the handler is cancelled."""


class Live(Registry, Protocol):
    """The registry of live sessions, as the lifecycle uses it (:class:`~pyfly_ws.SessionRegistry` is the one)."""

    @property
    def timekeeper(self) -> Timekeeper:
        """Enforces the time limits of the registry's sessions."""
        ...

    @property
    def tracer(self) -> Tracer | None:
        """Traces the handshakes (and messages) of the registry's sessions; ``None``: nothing is traced."""
        ...

    @property
    def _refusing(self) -> bool:
        """Whether any handshake may be refused by a drain (``refuses`` is asked only then)."""
        ...

    def _enter(self, path: str, supervisor: Supervisor) -> None:
        """Count a session of the endpoint at ``path`` as live, by its supervisor."""
        ...

    def _leave(self, path: str, supervisor: Supervisor) -> None:
        """The session is over: no longer live."""
        ...

    @property
    def figures(self) -> Figures | None:
        """The application's figures while its metrics are on, else ``None``."""
        ...

    @property
    def clock(self) -> Clock:
        """The wall clock credentials expire by."""
        ...

    def _signed_in(self, supervisor: Supervisor, identity: str) -> None:
        """The session speaks for ``identity``: find it by it (``sessions_of``)."""
        ...


class Dispatching(Protocol):
    """What makes the handler of a message-level endpoint (:class:`~pyfly_ws.messages.dispatch.Dispatcher`)."""

    def handler(self, controller: Any) -> Callable[[WebSocketSession], Awaitable[None]]:
        """The session handler for the controller instance."""
        ...


class Served(Protocol):
    """An endpoint, as the lifecycle uses it (:class:`~pyfly_ws.Endpoint` is the one).

    Declared here because the endpoint record runs its sessions through this
    layer: the record imports the lifecycle, and the lifecycle needs only this of it.
    """

    @property
    def path(self) -> str:
        """The full path the endpoint is mapped at."""
        ...

    @property
    def method(self) -> str:
        """The name of the mapped method on the controller."""
        ...

    @property
    def qualname(self) -> str:
        """``Controller.method``, for logs."""
        ...

    @property
    def dispatcher(self) -> Dispatching | None:
        """For a message-level endpoint, what makes its handler; ``None`` for a method endpoint."""
        ...

    @property
    def resolver(self) -> LazyController:
        """Builds the controller."""
        ...

    @property
    def policy(self) -> Policy:
        """Guards, allowed origins and limits."""
        ...

    @property
    def registry(self) -> Live:
        """The live sessions of the endpoint's application."""
        ...


class Supervisor:
    """The cancel scope, helpers, time limits and forced close of one session."""

    __slots__ = (
        "endpoint",
        "session",
        "trace",
        "shortest_limit",
        "identity",
        "_scope",
        "_cutting",
        "_helpers",
        "_ended",
        "_closing",
        "_finished",
        "_done",
    )

    def __init__(self, endpoint: Served) -> None:
        self.endpoint = endpoint
        self.session: WebSocketSession | None = None
        self.trace: SessionTrace | None = None
        """The session's traces (its handshake span first), or ``None`` when nothing is traced."""
        self.shortest_limit = endpoint.policy.limits.shortest_time_limit
        """The shortest time limit of the session, in seconds (``inf`` without one): the timekeeper's pace."""
        authenticator = endpoint.policy.authenticator
        if authenticator is not None and authenticator.first_message is not None:
            self.shortest_limit = min(self.shortest_limit, authenticator.first_message)
        self.identity: str | None = None
        """The identity the session speaks for, once signed in."""
        self._scope: anyio.CancelScope | asyncio.Task[Any] | None = None  # what _cut cancels
        self._cutting = False
        self._helpers: set[anyio.CancelScope | asyncio.Task[None]] | None = None
        self._ended = False
        self._closing = False
        self._finished = False
        self._done: anyio.Event | None = None

    @property
    def name(self) -> str:
        """The endpoint's name in logs: ``Controller.method``."""
        return self.endpoint.qualname

    @property
    def registry(self) -> Live:
        """The registry of the endpoint's application."""
        return self.endpoint.registry

    @property
    def finished(self) -> bool:
        """Whether the handler and ``on_disconnect`` are done."""
        return self._finished

    def finish(self) -> None:
        """Mark the session done (the lifecycle calls this last) and wake anyone draining it.

        The supervisor lets go of its session, so the two do not form a cycle
        that only the garbage collector could free.
        """
        self._finished = True
        self.session = None
        if self._done is not None:
            self._done.set()

    async def wait_finished(self) -> None:
        """Wait until :meth:`finish`."""
        if not self._finished:
            if self._done is None:
                self._done = anyio.Event()
            await self._done.wait()

    def __enter__(self) -> Supervisor:
        """Enter around the handler, so that :meth:`_cut` can cancel it.

        On asyncio the handler's own task is cancelled, and the cancellation
        taken back on the way out (an anyio cancel scope would cost several
        microseconds and a few hundred bytes per connection); on trio, an
        anyio cancel scope.
        """
        task_of = task_getter(self.session) if self.session is not None else asyncio_task_getter()
        self._scope = task_of() if task_of is not None else None
        if self._scope is None:
            self._scope = anyio.CancelScope().__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        """Leave: take back a cut's cancellation, and cancel the helpers (they end with the handler)."""
        scope, self._scope = self._scope, None
        self._ended = True
        if self._helpers:
            for helper in list(self._helpers):
                helper.cancel()
        if isinstance(scope, anyio.CancelScope):
            return bool(scope.__exit__(kind, error, traceback))
        if self._cutting and scope is not None:
            if kind is asyncio.CancelledError:
                return scope.uncancel() == 0  # ours alone: swallowed; another one still pending: raised
            if scope.cancelling():
                scope.uncancel()  # the handler swallowed the cut
        return False

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Start ``func(*args)`` beside the handler, as a helper; ignored once the handler has finished.

        On asyncio a helper is a plain task, cancelled when the handler ends; on
        trio, a system task inside a cancel scope of its own.
        """
        if self._ended:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            spawn_system_task(self._scoped_helper, func, args)
            return
        task = loop.create_task(self._helper(func, args))
        if self._helpers is None:
            self._helpers = set()
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    async def _helper(self, func: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...]) -> None:
        try:
            await func(*args)
        except Exception:
            logger.warning("%s: a session helper failed", self.endpoint.qualname, exc_info=True)

    async def _scoped_helper(self, func: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...]) -> None:
        if self._ended:
            return
        with anyio.CancelScope() as scope:
            if self._helpers is None:
                self._helpers = set()
            self._helpers.add(scope)
            try:
                await self._helper(func, args)
            finally:
                self._helpers.discard(scope)

    def accepted(self) -> None:
        """The handshake was accepted: the registry's timekeeper watches the time limits, if any apply."""
        limit = self.shortest_limit
        if limit != _INF:
            timekeeper = self.endpoint.registry.timekeeper
            # Timekeeper.watch's own test, asked first: with the timekeeper running on this asyncio loop at a
            # pace this session's limit does not quicken, watching needs nothing (one call fewer per session).
            if timekeeper._token is not _asyncio_loop() or limit / 4 < timekeeper._nap:
                timekeeper.watch(self)
        if self.trace is not None:
            self.trace.accepted()

    def signed_in(self, principal: Principal) -> None:
        """The session speaks for ``principal`` (from the handshake, its first message or a refresh): find it by
        its identity, and have the timekeeper watch its expiry."""
        if self.identity is None:
            self.identity = principal.identity
            self.endpoint.registry._signed_in(self, principal.identity)
        if principal.expires_at is None:
            return
        remaining = principal.expires_at - self.endpoint.registry.clock.time()
        self.shortest_limit = min(self.shortest_limit, max(1.0, remaining))
        session = self.session
        if session is not None and session.accepted:
            timekeeper = self.endpoint.registry.timekeeper
            timekeeper.watch(self)
            timekeeper.poke()

    async def _warn(self, principal: Principal) -> None:
        """Tell the session its token expires soon: an ``auth.expiring`` push, and the controller's ``on_expiring``."""
        session = self.session
        if session is None or session.closed or principal.expires_at is None:
            return
        if messenger_of(session) is not None:
            left = max(0.0, principal.expires_at - self.endpoint.registry.clock.time())
            await session.emit("auth.expiring", {"expires_at": principal.expires_at, "seconds": round(left, 3)})
        hook = getattr(self.endpoint.resolver.instance, "on_expiring", None)
        if hook is not None:
            result = hook(session)
            if inspect.isawaitable(result):
                await result

    def limit_hit(self, code: int, reason: str, limit: str) -> None:
        """Log that ``limit`` closes the session, and start closing it in a helper (the caller cannot wait)."""
        log_limit(self.endpoint.qualname, code, reason, limit)
        if self.session is not None:
            closed_by(self.session, limit)
        self._closing = True
        self.spawn(self.close, code, reason)

    def end(self, code: int, reason: str, cause: str) -> None:
        """Start closing an open session in a helper, for ``cause`` (``revoked``), unless it is closing already."""
        if self._closing or self.session is None or self.session.closed:
            return
        closed_by(self.session, cause)
        self._closing = True
        self.spawn(self.close, code, reason)

    async def close(self, code: int, reason: str) -> None:
        """Close the session from outside the handler; cancel the handler if it does not end in time."""
        self._closing = True
        scope = self._scope
        if not await self._close_in_time(code, reason):
            self._cut(scope, "the server did not take the close frame")
            return
        await anyio.sleep(CLOSE_GRACE)  # a helper: cancelled as soon as the handler ends
        self._cut(scope, f"handler still running {CLOSE_GRACE}s after close")

    async def drain(self, reason: str, deadline: float) -> bool:
        """Close with 1001 and wait for the handler and ``on_disconnect`` until ``deadline``; ``False`` if cut."""
        self._closing = True
        if self.session is not None:
            closed_by(self.session, "drain")
        scope = self._scope
        if not await self._close_in_time(DRAINED, reason):
            self._cut(scope, "the server did not take the close frame")
        with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
            await self.wait_finished()
        if self._finished:
            return True
        self._cut(scope, "drain timeout")
        await self.wait_finished()
        return False

    async def _close_in_time(self, code: int, reason: str) -> bool:
        """Close the session (begin, then finish); ``False`` if the server did not take the close frame in time.

        Some servers (granian) hold a close frame while the handler waits in
        ``receive``, and any server holds it behind a full buffer; the frame is
        then left due, and the lifecycle sends it once the handler is cut.
        """
        session = self.session
        if session is None:
            return True
        begin_close(session, code, reason)
        with anyio.move_on_after(CLOSE_GRACE):
            try:
                await finish_close(session)
            except Exception:
                logger.debug("closing %s failed", session.path, exc_info=True)
            return True
        resend_close_frame(session)
        return False

    def _cut(self, scope: anyio.CancelScope | asyncio.Task[Any] | None, why: str) -> None:
        if scope is None or scope is not self._scope or self._cutting:
            return  # the handler already ended, or is being cut
        logger.info("%s: cancelling the handler: %s", self.endpoint.qualname, why)
        self._cutting = True
        scope.cancel()
        if self.session is not None:
            # Granian drops a close frame sent while the handler waits in receive; once the
            # handler is cancelled nothing waits, and the lifecycle sends the frame again.
            resend_close_frame(self.session)

    def due(self, now: float) -> float | None:
        """When a time limit next needs a look (``inf``: only at the timekeeper's pace).

        ``None`` once the session is closed, or once a limit has expired: the
        close then starts in a helper, and there is nothing more to watch.
        """
        session = self.session
        if session is None or session.closed or self._closing:
            return None
        if not session.accepted:
            return math.inf  # no time limit runs before accept
        limits = self.endpoint.policy.limits
        seen = activity(session)
        wake = math.inf
        if limits.first_message_timeout is not None and not seen.heard:
            due = seen.last_in + limits.first_message_timeout
            if now >= due:
                text = f"no message within {limits.first_message_timeout:g} s"
                self.limit_hit(_SILENT, text, "first_message_timeout")
                return None
            wake = due
        if limits.idle_timeout is not None:
            due = seen.last_in + limits.idle_timeout
            if now >= due:
                self.limit_hit(_IDLE, f"idle for {limits.idle_timeout:g} s", "idle_timeout")
                return None
            wake = min(wake, due)
        if limits.send_timeout is not None and seen.writing_since is not None:
            due = seen.writing_since + limits.send_timeout
            if now >= due:
                text = f"client not reading for {limits.send_timeout:g} s"
                self.limit_hit(_STALLED, text, "send_timeout")
                return None
            wake = min(wake, due)
        credentials = credentials_of(session)
        if credentials is None:
            return wake
        principal = credentials.principal
        if principal is None:  # the first message is to bring the token
            deadline = credentials.authenticator.first_message or 0.0
            due = seen.last_in + deadline
            if now >= due:
                self.limit_hit(NO_TOKEN, f"no token within {deadline:g} s", "auth")
                return None
            return min(wake, due)
        expires = principal.expires_at
        if expires is None:
            return wake
        clock_now = credentials.clock.time()
        if clock_now >= expires:
            self.limit_hit(EXPIRED, "token expired", "auth")
            return None
        notice = credentials.notice_at
        if not credentials.warned and notice is not None and clock_now >= notice:
            credentials.warned = True
            self.spawn(self._warn, principal)
        target = expires if credentials.warned or notice is None else notice
        return min(wake, now + (target - clock_now))
