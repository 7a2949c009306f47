"""The per-message path of a session, and the seam the lifecycle and the hub use.

:class:`Wire` is the part of :class:`~pyfly_ws.WebSocketSession` that runs for
every message: the state machine, receiving and sending (text and bytes), the
per-message limits, the close frame and the outgoing queue's overflow. It
speaks to its connection in one of two ways, written side by side below:

- *direct*: a connection that is a :class:`~pyfly_ws.adapter.DirectEvents`
  (the reference ``ASGIConnection``) has its ASGI events read and written here,
  one call less per message each way;
- *plain*: every other connection, through the :class:`~pyfly_ws.Connection` methods.

``nox -s conformance-plain`` runs the conformance suite with the direct path
off, and ``python -m bench.micro --targets pyfly-asgi pyfly-asgi-plain``
shows what it is worth. :meth:`Wire.send_text` is :meth:`Wire._send` written
out for the most common message: one call fewer, about 3 % of a message.

The lifecycle and the hub change a session only through the functions at the
end of this module, the seam; nothing outside this folder reads a session's
private state:

- :func:`begin_close`, :func:`finish_close`, :func:`close_frame_due`,
  :func:`resend_close_frame`: a close from outside the handler (a limit, a drain);
- :func:`closed_by`: what a close is for, when the application's metrics count it;
- :func:`left_open`: whether the handler returned without closing;
- :func:`activity`, :func:`task_getter`: what the supervisor times and cancels;
- :func:`finish`, :func:`at_finish`: the end of the handler, and what runs then;
- :func:`deliver`: the hub's fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from enum import Enum
from typing import Any, NamedTuple, NoReturn, TypeVar, overload

import anyio
import anyio.lowlevel

from ..close_codes import CloseCode
from ..exceptions import (
    LimitExceededError,
    MessageTypeError,
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketStateError,
)
from ..mapping.limits import LIMIT_RULES, Limits
from .connection import Connection, DirectEvents, WritesNow, _new
from .outbox import Outbox
from .supervision import Supervision, log_limit, serving

__all__ = [
    "Activity",
    "SessionState",
    "Wire",
    "activity",
    "at_finish",
    "begin_close",
    "close_frame_due",
    "closed_by",
    "deliver",
    "finish",
    "finish_close",
    "left_open",
    "resend_close_frame",
    "task_getter",
]

logger = logging.getLogger("pyfly_ws")

_M = TypeVar("_M", str, bytes)

# The close codes of the limits this module enforces (mapping/limits.py holds the rules).
_TOO_BIG = LIMIT_RULES["max_message_size"].close_code
_TOO_FAST = LIMIT_RULES["rate"].close_code
_OVERFLOWED = LIMIT_RULES["send_queue"].close_code


class SessionState(Enum):
    """Where a session is in its life."""

    CONNECTING = "connecting"
    """The handshake is waiting for :meth:`WebSocketSession.accept`."""
    ACCEPTED = "accepted"
    """Messages flow both ways."""
    CLOSED = "closed"
    """Closed by the server, refused before accept, or left by the peer."""


# The states as module globals: read on every message and connection, and a global is the cheapest
# lookup (an Enum member through its class costs five times as much on Python 3.11).
_CONNECTING = SessionState.CONNECTING
_ACCEPTED = SessionState.ACCEPTED
_CLOSED = SessionState.CLOSED
_monotonic = time.monotonic

_serving = serving.get

ways: dict[type, tuple[bool, bool]] = {}
"""Per connection class: whether the session takes the direct path, and whether the connection writes now
(see :func:`learn_ways`)."""


def learn_ways(connection: Connection) -> tuple[bool, bool]:
    """How the session speaks to ``connection``: ``(direct, now)``, worked out once per class into :data:`ways`.

    *direct*: the session may read and write the connection's ASGI events
    itself (a :class:`~pyfly_ws.adapter.DirectEvents` that says so); *now*: the
    connection can write a message without waiting (a
    :class:`~pyfly_ws.adapter.WritesNow`). An ``isinstance`` check against a
    runtime protocol costs microseconds, so it is made on the first connection
    of each class, and the session reads :data:`ways` for every later one.
    """
    direct = isinstance(connection, DirectEvents) and connection.direct_events
    found = ways[type(connection)] = (direct, isinstance(connection, WritesNow))
    return found


class Wire:
    """The state, receiving, sending, limits and close of one session: everything that runs per message.

    Its fields are set by :meth:`WebSocketSession.__init__ <pyfly_ws.WebSocketSession>`, with
    the session's own: one ``__init__`` per connection, where a second one costs
    about 3 % of a connection's time in ``bench.micro``.
    """

    _connection: Connection
    _state: SessionState
    _close_code: int | None
    _close_reason: str
    _peer_gone: bool
    _was_accepted: bool
    _limits: Limits
    _supervisor: Supervision | None
    _outbox: Outbox | None
    """The outgoing queue, made when a message first has to wait or is posted (see :meth:`_outbox_made`)."""
    _writing_since: float | None
    """While there is no outbox: when the write on its way began (``time.monotonic()``), else ``None``."""
    _direct: DirectEvents | None
    """The connection itself when its ASGI events are read and written here (the direct path), else ``None``."""
    _now: WritesNow | None
    """The connection itself when it writes without waiting (:meth:`~pyfly_ws.adapter.WritesNow.send_now`)."""
    _timed: bool
    """Whether the limits need the time of each message."""
    _big: int
    """Messages longer than this many characters or bytes may be over ``max_message_size``: measure them."""
    _last_in: float
    _heard: bool
    _tokens: float
    _frame_due: bool
    _task_of: Callable[[], asyncio.Task[Any] | None] | None
    _receiver: asyncio.Task[Any] | None
    _withdrawn: bool
    _resume: anyio.Event | None
    _finalizers: list[Callable[[], None]] | None

    __slots__ = (
        "_connection",
        "_state",
        "_close_code",
        "_close_reason",
        "_peer_gone",
        "_was_accepted",
        "_limits",
        "_supervisor",
        "_outbox",
        "_writing_since",
        "_direct",
        "_now",
        "_big",
        "_timed",
        "_last_in",
        "_heard",
        "_tokens",
        "_frame_due",
        "_task_of",
        "_receiver",
        "_withdrawn",
        "_resume",
        "_finalizers",
    )

    @property
    def path(self) -> str:
        """The requested path."""
        return self._connection.handshake.path

    # -- sending ---------------------------------------------------------

    async def send_text(self, data: str) -> None:
        """Send a text message.

        From the session's own handler (or a task it started), a send waits
        while the outgoing queue is full, as the ``overflow`` policy says. From
        any other task it never waits for this client: the message is queued
        as by :meth:`~pyfly_ws.WebSocketSession.post`, and a client whose queue
        overflows is closed with 1013 (a message for a closed session is
        dropped). The same holds for every ``send_*`` method.
        """
        # _send, written out for the most common message: one call fewer per message (see bench.micro).
        if not isinstance(data, str):
            raise TypeError(f"send_text() takes str, got {type(data).__name__}")
        if _serving() is not self._supervisor and self._supervisor is not None:
            self._send_from_outside(data, "send text")
            return
        if self._state is not _ACCEPTED:
            self._raise_for_state("send text")
        outbox = self._outbox
        now = self._now
        direct = self._direct
        if outbox is None:
            if self._writing_since is None:  # an idle line, and no message ever had to wait: no outbox at all
                if now is not None and now.send_now(data):
                    return  # written without waiting, in one call
                self._writing_since = _monotonic()
                try:
                    if direct is None:
                        await self._connection.send(data)  # plain
                    else:
                        await direct.asgi_send({"type": "websocket.send", "text": data})  # direct
                except Exception as exc:
                    self._write_failed(exc, "send text")
                    raise
                finally:
                    self._writing_since = None
                    outbox = self._outbox  # made while this write was on its way: the line is its now
                    if outbox is not None:
                        outbox.written()
                if outbox is not None and outbox._queue:
                    await outbox.flush_later()
                return
            outbox = self._outbox_made()  # a write is on its way: this message waits in the outbox
        if now is not None and not outbox.writing and not outbox._queue and now.send_now(data):
            return  # written without waiting: Outbox.send's path for an idle line, in one call
        if direct is not None and not outbox.writing and not outbox._queue:
            outbox.writing = True
            outbox.since = _monotonic()
            try:
                await direct.asgi_send({"type": "websocket.send", "text": data})
            except direct.peer_gone_errors as exc:
                self._send_failed(direct.gone_error(), "send text", exc)
            finally:
                outbox.writing = False
                if outbox._room is not None:
                    outbox.written()
            if outbox._queue:
                await outbox.flush_later()
            return
        try:
            await outbox.send(data)
        except (SessionClosedError, WebSocketDisconnect) as exc:
            self._send_failed(exc, "send text")

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"send_bytes() takes bytes, got {type(data).__name__}")
        await self._send(bytes(data), "send bytes")

    async def _send(self, data: str | bytes, operation: str) -> None:
        """Every send but ``send_text``'s: the direct path for an idle line, else the outbox (the plain path)."""
        if _serving() is not self._supervisor and self._supervisor is not None:
            self._send_from_outside(data, operation)
            return
        if self._state is not _ACCEPTED:
            self._raise_for_state(operation)
        outbox = self._outbox
        now = self._now
        direct = self._direct
        if outbox is None:
            if self._writing_since is None:  # an idle line, and no message ever had to wait: no outbox at all
                if now is not None and now.send_now(data):
                    return
                self._writing_since = _monotonic()
                try:
                    if direct is None:
                        await self._connection.send(data)  # plain
                    else:
                        await direct.asgi_send(  # direct
                            {"type": "websocket.send", "text": data}
                            if type(data) is str
                            else {"type": "websocket.send", "bytes": data}
                        )
                except Exception as exc:
                    self._write_failed(exc, operation)
                    raise
                finally:
                    self._writing_since = None
                    outbox = self._outbox  # made while this write was on its way: the line is its now
                    if outbox is not None:
                        outbox.written()
                if outbox is not None and outbox._queue:
                    await outbox.flush_later()
                return
            outbox = self._outbox_made()  # a write is on its way: this message waits in the outbox
        if now is not None and not outbox.writing and not outbox._queue and now.send_now(data):
            return
        if direct is not None and not outbox.writing and not outbox._queue:
            # direct: Outbox.send's path for an idle line, over the ASGI send, written out: once per message.
            outbox.writing = True
            outbox.since = _monotonic()
            try:
                await direct.asgi_send(
                    {"type": "websocket.send", "text": data}
                    if type(data) is str
                    else {"type": "websocket.send", "bytes": data}
                )
            except direct.peer_gone_errors as exc:
                self._send_failed(direct.gone_error(), operation, exc)
            finally:
                outbox.writing = False  # Outbox.written(), written out
                if outbox._room is not None:
                    outbox.written()
            if outbox._queue:
                await outbox.flush_later()
            return
        try:
            await outbox.send(data)  # plain: Connection.send, now or from the queue
        except (SessionClosedError, WebSocketDisconnect) as exc:
            self._send_failed(exc, operation)

    def _send_from_outside(self, data: str | bytes, operation: str) -> None:
        """A send from a task that is not this session's own: queued as by ``post``, never waiting.

        This is what keeps a broadcast loop (``for member in members: await
        member.send_text(text)``) from stalling behind one member that stopped
        reading: that member's queue fills, it is closed with 1013, and the loop
        goes on. A message for a session that is already closed is dropped.
        """
        state = self._state
        if state is _ACCEPTED:
            self._outbox_made().post(data, eager=True)
        elif state is _CONNECTING:
            self._raise_for_state(operation)
        else:
            logger.debug("%s: dropped a message sent from another task after the session closed", self.path)

    def _write_failed(self, exc: Exception, operation: str) -> None:
        """A write without the outbox raised ``exc``: a vanished peer becomes :class:`SessionClosedError`; the
        caller re-raises anything else."""
        direct = self._direct
        if direct is None:
            if isinstance(exc, WebSocketDisconnect):
                self._send_failed(exc, operation)
        elif isinstance(exc, direct.peer_gone_errors):
            self._send_failed(direct.gone_error(), operation, exc)

    def _outbox_made(self) -> Outbox:
        """The session's outbox, made now if it is not yet: a message has to wait, or is posted.

        Called only while the session is accepted (each caller checks first).

        Most sessions never need one: while no message has had to wait, a send
        writes at once and the session itself keeps when that write began. An
        outbox made while a write is on its way takes the line over; the
        write, when it ends, tells the outbox, which then sends what queued up.
        """
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = self._new_outbox()
            outbox.eager = self._task_of is not None  # asyncio: the hub's fan-out may write in its own task
            since = self._writing_since
            if since is not None:
                outbox.writing = True
                outbox.since = since
        return outbox

    def _new_outbox(self) -> Outbox:
        """A new outbox for this session (a counted session's counts what it drops)."""
        return Outbox(self._connection, self._overflow, self._limits, self._supervisor)

    def _send_failed(
        self, exc: SessionClosedError | WebSocketDisconnect, operation: str, cause: BaseException | None = None
    ) -> NoReturn:
        if isinstance(exc, WebSocketDisconnect):
            self._mark_gone(exc.code, exc.reason)
            raise SessionClosedError(operation, exc.code, exc.reason) from (cause or exc)
        # the queue overflowed, or the session closed while this send waited
        code = _OVERFLOWED if self._close_code is None else self._close_code
        raise SessionClosedError(operation, code, self._close_reason) from None

    def _overflow(self, reason: str) -> None:
        """The client reads too slowly for the outgoing queue: close with 1013 without making the sender wait."""
        if self._state is not _ACCEPTED:
            return
        self._begin_close(_OVERFLOWED, reason)
        if self._supervisor is not None:
            self._supervisor.limit_hit(_OVERFLOWED, reason, "send_queue")
        else:
            log_limit(self.path, _OVERFLOWED, reason, "send_queue")

    # -- receiving -------------------------------------------------------

    def receive(self) -> Coroutine[Any, Any, str | bytes]:
        """Wait for the next message: ``str`` for text, ``bytes`` for binary (``await`` it).

        Raises :class:`~pyfly_ws.WebSocketDisconnect` once the peer is gone.
        """
        return self._receive(None, False)

    def receive_text(self) -> Coroutine[Any, Any, str]:
        """Wait for a text message; a binary one raises :class:`~pyfly_ws.MessageTypeError` (close 1003)."""
        return self._receive(str, False)

    def receive_bytes(self) -> Coroutine[Any, Any, bytes]:
        """Wait for a binary message; a text one raises :class:`~pyfly_ws.MessageTypeError` (close 1003)."""
        return self._receive(bytes, False)

    def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the peer disconnects, then stop cleanly."""
        messages: _Messages[str] = _new(_Messages)  # _Messages(self, str), one frame fewer: once per connection
        messages._wire, messages._kind = self, str
        return messages

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary messages until the peer disconnects, then stop cleanly."""
        return _Messages(self, bytes)

    @overload
    async def _receive(self, kind: None, stop: bool) -> str | bytes: ...
    @overload
    async def _receive(self, kind: type[_M], stop: bool) -> _M: ...

    async def _receive(self, kind: type[Any] | None, stop: bool) -> Any:
        """The next message (of type ``kind`` if given); on a disconnect, ``StopAsyncIteration`` if ``stop``.

        Every receive and every iteration runs this one coroutine: the public
        methods return it rather than await it, so waiting for a message holds
        no frame but this one.
        """
        if self._state is not _ACCEPTED:
            if stop and self._peer_gone:
                raise StopAsyncIteration
            self._raise_for_state("receive")
        task_of = self._task_of
        direct = self._direct
        try:
            if task_of is not None:
                self._receiver = task_of()
            try:
                if direct is None:
                    message = await self._connection.receive()  # plain
                else:  # direct: ASGIConnection.receive, written out: this runs once per message
                    try:
                        event = await direct.asgi_receive()
                    except direct.peer_gone_errors as exc:
                        raise direct.gone_error() from exc
                    kind_of_event = event["type"]
                    if kind_of_event == "websocket.receive":
                        text: str | None = event.get("text")
                        message = text if text is not None else (event.get("bytes") or b"")
                    elif stop and kind_of_event == "websocket.disconnect":
                        # The end of an iteration: no WebSocketDisconnect is made only to be caught,
                        # and _mark_gone is written out (once per connection).
                        code, reason = direct.gone_with(event)
                        self._frame_due = False
                        if self._state is not _CLOSED:
                            self._close_code = code
                            self._close_reason = reason
                            self._state = _CLOSED
                        self._peer_gone = True
                        raise StopAsyncIteration
                    else:
                        message = direct.message_of(event)
            except asyncio.CancelledError:
                if not self._withdrawn:
                    raise
                message = await self._receive_after_withdrawal()
            finally:
                self._receiver = None
        except WebSocketDisconnect as exc:
            self._mark_gone(exc.code, exc.reason)
            if stop:
                raise StopAsyncIteration from None
            raise
        if self._timed or len(message) > self._big:
            broken = self._inspect(message)
            if broken is not None:
                await self._break(*broken)
        if kind is not None and type(message) is not kind:
            wanted, got = ("text", "binary") if kind is str else ("binary", "text")
            raise MessageTypeError(f"expected a {wanted} message, received a {got} one")
        return message

    def _inspect(self, message: str | bytes) -> tuple[str, int, str] | None:
        """Check one incoming message against the limits: ``(limit, close code, why)`` if it breaks one."""
        limits = self._limits
        size_limit = limits.max_message_size
        if size_limit is not None and len(message) > size_limit // 4:
            size = len(message.encode("utf-8", "surrogatepass")) if isinstance(message, str) else len(message)
            if size > size_limit:
                why = f"message of {size} bytes is over the limit of {size_limit}"
                return "max_message_size", _TOO_BIG, why
        if not self._timed:  # the default: only the size is checked, no clock read per message
            return None
        now = time.monotonic()
        self._heard = True
        rate = limits.rate
        if rate is not None:
            tokens = min(limits.bucket_size, self._tokens + (now - self._last_in) * rate)
            if tokens < 1.0:
                return "rate", _TOO_FAST, f"more than {rate:g} messages per second"
            self._tokens = tokens - 1.0
        self._last_in = now
        return None

    async def _break(self, limit: str, code: int, why: str) -> None:
        """A limit was broken: log it, close the session with ``code`` and raise."""
        log_limit(self._supervisor.name if self._supervisor is not None else self.path, code, why, limit)
        try:
            await self._close_now(code, why)
        except Exception:
            logger.debug("closing %s failed", self.path, exc_info=True)
        raise LimitExceededError(limit, why, code)

    # -- closing ---------------------------------------------------------

    async def _close_now(self, code: int, reason: str) -> None:
        """Close now, without waiting for the queue: :meth:`_begin_close`, then :meth:`_finish_close`."""
        if self._state is _CLOSED:
            return
        self._begin_close(code, reason)
        await self._finish_close()

    def _begin_close(self, code: int, reason: str) -> None:
        """Begin closing from the server side: drop the queue; nothing more goes out but the close frame, now due."""
        self._state = _CLOSED
        self._close_code = code
        self._close_reason = reason
        self._frame_due = True
        if self._outbox is not None:
            self._outbox.clear()

    async def _finish_close(self) -> None:
        """Finish closing: send the close frame if it is due and nobody else is sending it.

        From another task while the handler waits in ``receive``, the receive is
        withdrawn first (asyncio): granian holds a close frame back while a
        receive is pending. The handler then receives again and gets the disconnect.
        """
        if not self._frame_due:
            return
        self._frame_due = False
        code = CloseCode.NORMAL if self._close_code is None else self._close_code
        receiver = self._receiver
        if receiver is None or self._task_of is None or receiver is self._task_of():
            await self._connection.close(code, self._close_reason)
            return
        self._withdrawn = True
        self._resume = resume = anyio.Event()
        receiver.cancel()
        try:
            await anyio.lowlevel.checkpoint()
            await self._connection.close(code, self._close_reason)
        finally:
            resume.set()

    async def _receive_after_withdrawal(self) -> str | bytes:
        """The receive was withdrawn so a close frame could go out: receive again once it has."""
        self._withdrawn = False
        if self._receiver is not None:
            self._receiver.uncancel()
        if self._resume is not None:
            await self._resume.wait()
        return await self._connection.receive()

    def _closed_by(self, cause: str) -> None:
        """What the coming close is for (a limit's name, ``drain``): only a counted session keeps it."""

    def _mark_gone(self, code: int, reason: str) -> None:
        """The peer is gone, with ``code`` and ``reason``: the session is closed, and no close frame is due."""
        self._frame_due = False
        if self._state is not _CLOSED:
            self._close_code = code
            self._close_reason = reason
            self._state = _CLOSED
        self._peer_gone = True

    def _raise_for_state(self, operation: str) -> None:
        """Raise the error for ``operation`` in the session's state: before accept, or once closed."""
        if self._state is _CONNECTING:
            raise WebSocketStateError(f"cannot {operation} before accept(): call `await session.accept()` first")
        code = CloseCode.NO_STATUS if self._close_code is None else self._close_code
        if self._peer_gone and operation == "receive":
            raise WebSocketDisconnect(code, self._close_reason)
        raise SessionClosedError(operation, code, self._close_reason)


class _Messages(AsyncIterator[_M]):
    """``session.iter_text()`` and ``iter_bytes()``: each step is one call of the session's receive.

    Not an async generator: a generator would hold a frame of its own for as
    long as the loop runs, and cost a call more per message.
    """

    __slots__ = ("_wire", "_kind")

    def __init__(self, wire: Wire, kind: type[_M]) -> None:
        self._wire = wire
        self._kind: type[_M] = kind

    def __aiter__(self) -> _Messages[_M]:
        return self

    def __anext__(self) -> Coroutine[Any, Any, _M]:
        return self._wire._receive(self._kind, True)


# -- the seam: what the lifecycle and the hub may do to a session ------------


def begin_close(wire: Wire, code: int, reason: str) -> None:
    """Begin closing ``wire``'s session from outside its handler (a time limit, a drain), if it is still open."""
    if wire._state is not _CLOSED:
        wire._begin_close(code, reason)


def closed_by(wire: Wire, cause: str) -> None:
    """Say what closes ``wire``'s session (a limit's name, ``drain``, ``error``), for the ``closes`` figure."""
    wire._closed_by(cause)


def finish_close(wire: Wire) -> Coroutine[Any, Any, None]:
    """Send the close frame a close left due (``await`` it); nothing if none is due."""
    return wire._finish_close()


def close_frame_due(wire: Wire) -> bool:
    """Whether the session's close frame has yet to go out (the server did not take it in time)."""
    return wire._frame_due


def left_open(wire: Wire) -> bool:
    """Whether the session is still open, or closed with its close frame still due: the handler left it to us."""
    return wire._state is not _CLOSED or wire._frame_due


def resend_close_frame(wire: Wire) -> None:
    """The server did not take the close frame (granian holds it while a receive waits): send it once more later.

    The lifecycle sends it when the handler has ended; nothing is due if the peer is already gone.
    """
    if not wire._peer_gone:
        wire._frame_due = True


class Activity(NamedTuple):
    """What the time limits of one session are measured from."""

    heard: bool
    """Whether a message came in since accept (``first_message_timeout`` stops there)."""
    last_in: float
    """When the last message came in, or the accept (``time.monotonic()``)."""
    writing_since: float | None
    """When the write in progress started, or ``None`` when nothing is being written (``send_timeout``)."""


def activity(wire: Wire) -> Activity:
    """The session's :class:`Activity`, for the supervisor's time limits."""
    outbox = wire._outbox
    if outbox is None:
        return Activity(wire._heard, wire._last_in, wire._writing_since)
    return Activity(wire._heard, wire._last_in, outbox.since if outbox.writing else None)


def task_getter(wire: Wire) -> Callable[[], asyncio.Task[Any] | None] | None:
    """The session's cheap ``current_task()`` on asyncio (``None`` on trio), for the supervisor's cancel scope."""
    return wire._task_of


def finish(wire: Wire) -> None:
    """The handler is done: run what was registered with :func:`at_finish` (the hub's leaving).

    The outbox lets go of the session too (nothing is sent any more), so the
    session is freed by reference counting, without the cycle collector.
    """
    if wire._outbox is not None:
        wire._outbox.detach()
    finalizers = wire._finalizers
    if finalizers is None:  # most sessions: no room joined
        return
    wire._finalizers = None
    for finalize in finalizers:
        try:
            finalize()
        except Exception:
            logger.warning("a finalizer of %s raised", wire.path, exc_info=True)


def at_finish(wire: Wire, finalize: Callable[[], None]) -> None:
    """Call ``finalize`` once the handler is done (the hub's leaving)."""
    if wire._finalizers is None:
        wire._finalizers = []
    wire._finalizers.append(finalize)


def deliver(wire: Wire, data: str | bytes) -> bool:
    """``post`` for the hub's fan-out: on asyncio, a member whose line is idle is written to at once.

    The write runs in the publisher's task up to its first wait (most never
    wait), so a broadcast starts no task per member; one that must wait goes
    on in the member's writer task, and queue and policy apply as for ``post``.
    """
    if wire._state is not _ACCEPTED:
        return False
    return wire._outbox_made().post(data, eager=True)
