"""``WebSocketSession``: the one session API, written once over any :class:`Connection`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol, TypeVar, overload

import anyio
import anyio.lowlevel

from ..close_codes import CloseCode, check_reason
from ..datastructures import Headers, QueryParams
from ..exceptions import (
    InvalidPayloadError,
    LimitExceededError,
    MessageTypeError,
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketStateError,
)
from ..mapping.limits import DEFAULT_LIMITS, LIMIT_RULES, Limits
from ..tasks import asyncio_task_getter
from .connection import Connection, DirectEvents, RawHeaders
from .outbox import Outbox

if TYPE_CHECKING:
    from ..lifecycle.registry import SessionRegistry  # the one upward import: see Supervision.registry

__all__ = ["JSONMode", "SessionState", "WebSocketSession"]

JSONMode = Literal["text", "binary"]

_M = TypeVar("_M", str, bytes)
_NO_PARAMS: dict[str, Any] = {}  # shared by sessions without path parameters until one asks for its own

logger = logging.getLogger("pyfly_ws")

_RESERVED_CODES = frozenset({1004, 1005, 1006, 1015})
# The close codes of the limits this module enforces (mapping/limits.py holds the rules).
_TOO_BIG = LIMIT_RULES["max_message_size"].close_code
_TOO_FAST = LIMIT_RULES["rate"].close_code
_OVERFLOWED = LIMIT_RULES["send_queue"].close_code


def log_limit(name: str, code: int, reason: str, limit: str) -> None:
    """The one INFO line a session closed by a limit leaves: who, the close code, why, and which limit."""
    logger.info("%s: closing with %s: %s (limit %s)", name, code, reason, limit)


class Supervision(Protocol):
    """What runs a session beside its handler (the lifecycle's supervisor), as the session uses it.

    Declared here so that the session imports nothing of the lifecycle, with one
    exception: :attr:`registry` is typed with the public ``SessionRegistry``, so
    that ``WebSocketSession.registry`` keeps its public type.
    """

    @property
    def name(self) -> str:
        """The endpoint's name in logs: ``Controller.method``."""
        ...

    @property
    def registry(self) -> SessionRegistry:
        """The live-session registry of the application serving the session."""
        ...

    def accepted(self) -> None:
        """The handshake was accepted: the session's time limits start."""
        ...

    def limit_hit(self, code: int, reason: str, limit: str) -> None:
        """A limit closes the session with ``code``: log it and make sure the handler ends."""
        ...

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Start ``func(*args)`` beside the handler (the outbox's writer)."""
        ...


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

serving: ContextVar[Supervision | None] = ContextVar("pyfly_ws_serving", default=None)
"""The supervisor of the session whose handler runs in this task (or in the task that started this one).

That session's *own* tasks: a send from any other task (another session's
handler, a background task) never waits for this session's client (see
:meth:`WebSocketSession.send_text`). The supervisor rather than the session:
a timer scheduled by the handler keeps a copy of the context until it is due,
and a finished supervisor holds no more than its endpoint.
"""
_serving = serving.get


class WebSocketSession:
    """A WebSocket conversation, the same on every adapter.

    Handlers receive one as their only argument. Properties describe the
    handshake; coroutines accept, exchange messages and close.
    """

    __slots__ = (
        "_connection",
        "_handshake",
        "_path_params",
        "_state",
        "_close_code",
        "_close_reason",
        "_peer_gone",
        "_was_accepted",
        "_headers",
        "_query",
        "_user_state",
        "_limits",
        "_supervisor",
        "_outbox",
        "_asgi",
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
        "__weakref__",
    )

    def __init__(
        self,
        connection: Connection,
        path_params: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        supervisor: Supervision | None = None,
    ) -> None:
        self._connection = connection
        self._handshake = connection.handshake
        self._path_params = dict(path_params) if path_params else _NO_PARAMS
        self._state = _CONNECTING
        self._close_code: int | None = None
        self._close_reason = ""
        self._peer_gone = False
        self._was_accepted = False
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._user_state: dict[str, Any] | None = None  # made when first asked for
        self._limits = limits
        self._supervisor = supervisor
        self._outbox = Outbox(connection, self._overflow, limits, supervisor)
        # A DirectEvents connection's events (an ASGIConnection's) are read and written here directly.
        self._asgi: DirectEvents | None = connection if getattr(connection, "direct_events", False) else None  # type: ignore[assignment]
        self._timed = limits._timed  # limits that need the time of each message
        # Messages longer than this many characters or bytes may be over max_message_size: measure them.
        self._big = limits._big
        self._last_in = 0.0
        self._heard = False
        self._tokens = limits._tokens
        self._frame_due = False
        self._task_of = asyncio_task_getter()
        self._outbox.eager = self._task_of is not None  # asyncio: the hub's fan-out may write in its own task
        self._receiver: asyncio.Task[Any] | None = None
        self._withdrawn = False
        self._resume: anyio.Event | None = None
        self._finalizers: list[Callable[[], None]] | None = None  # made by the first _at_finish()

    def __repr__(self) -> str:
        return f"<WebSocketSession {self.path} {self._state.value}>"

    # -- handshake facts -------------------------------------------------

    @property
    def path(self) -> str:
        """The requested path."""
        return self._handshake.path

    @property
    def path_params(self) -> dict[str, Any]:
        """Path parameters, converted by type: ``{id:int}`` gives an ``int``."""
        if self._path_params is _NO_PARAMS:
            self._path_params = {}  # a dict of its own, made when first asked for
        return self._path_params

    @property
    def query_params(self) -> QueryParams:
        """Query parameters (read-only; ``getlist()`` for repeated keys)."""
        if self._query is None:
            self._query = QueryParams.from_query_string(self._handshake.query_string)
        return self._query

    @property
    def headers(self) -> Headers:
        """Handshake headers (read-only, case-insensitive; ``getlist()`` for repeats)."""
        if self._headers is None:
            self._headers = Headers.from_raw(self._handshake.headers)
        return self._headers

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)``, or ``None`` when the server does not say."""
        return self._handshake.client

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """The subprotocols the client requested, in its order of preference."""
        return self._handshake.subprotocols

    @property
    def state(self) -> dict[str, Any]:
        """A dict that lives as long as this connection, for the application's own use."""
        if self._user_state is None:
            self._user_state = {}
        return self._user_state

    @property
    def session_state(self) -> SessionState:
        """Where the session is: connecting, accepted or closed."""
        return self._state

    @property
    def accepted(self) -> bool:
        """Whether the handshake was accepted (stays true after close)."""
        return self._was_accepted

    @property
    def closed(self) -> bool:
        """Whether the session is closed, by either side or by refusal."""
        return self._state is _CLOSED

    @property
    def close_code(self) -> int | None:
        """The close code once closed (the peer's, if it closed first), else ``None``."""
        return self._close_code

    @property
    def close_reason(self) -> str:
        """The close reason once closed, else an empty string."""
        return self._close_reason

    @property
    def limits(self) -> Limits:
        """The limits this session runs under (the endpoint's, controller's and application's, merged)."""
        return self._limits

    @property
    def registry(self) -> SessionRegistry | None:
        """The live-session registry of the application serving this session (``None`` outside one)."""
        return self._supervisor.registry if self._supervisor is not None else None

    @property
    def pending(self) -> int:
        """Messages sent but still waiting in the outgoing queue for a slow client."""
        return len(self._outbox)

    @property
    def dropped(self) -> int:
        """Messages discarded by the ``drop_oldest`` overflow policy."""
        return self._outbox.dropped

    # -- handshake -------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, optionally choosing one of the requested subprotocols."""
        if self._state is not _CONNECTING:
            raise WebSocketStateError(f"accept() needs a connecting session, this one is {self._state.value}")
        if subprotocol is not None and subprotocol not in self._handshake.subprotocols:
            offered = ", ".join(self._handshake.subprotocols) or "none"
            raise ValueError(f"subprotocol {subprotocol!r} was not requested by the client (requested: {offered})")
        raw = _encode_headers(headers) if headers else ()
        try:
            await self._connection.accept(subprotocol, raw)
        except WebSocketDisconnect as exc:
            self._mark_gone(exc.code, exc.reason)
            raise
        self._state = _ACCEPTED
        self._was_accepted = True
        self._last_in = time.monotonic()
        if self._supervisor is not None:
            self._supervisor.accepted()

    # -- sending ---------------------------------------------------------

    async def send_text(self, data: str) -> None:
        """Send a text message.

        From the session's own handler (or a task it started), a send waits
        while the outgoing queue is full, as the ``overflow`` policy says. From
        any other task it never waits for this client: the message is queued
        as by :meth:`post`, and a client whose queue overflows is closed with
        1013 (a message for a closed session is dropped). The same holds for
        every ``send_*`` method.
        """
        if not isinstance(data, str):
            raise TypeError(f"send_text() takes str, got {type(data).__name__}")
        if _serving() is not self._supervisor and self._supervisor is not None:
            self._send_from_outside(data, "send text")
            return
        if self._state is not _ACCEPTED:
            self._raise_for_state("send text")
        outbox = self._outbox
        asgi = self._asgi
        if asgi is not None and not outbox.writing and not outbox._queue:
            # Outbox.send's path for an idle line, over ASGIConnection.send, written out: once per message.
            outbox.writing = True
            outbox.since = _monotonic()
            try:
                await asgi._send({"type": "websocket.send", "text": data})
            except asgi.peer_gone_errors as exc:
                self._send_failed(asgi._gone_error(), "send text", exc)
            finally:
                outbox.writing = False  # Outbox.written(), written out
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

    async def send(self, data: str | bytes) -> None:
        """Send ``str`` as a text message and ``bytes`` as a binary one."""
        if isinstance(data, str):
            await self._send(data, "send text")
        elif isinstance(data, bytes | bytearray | memoryview):
            await self._send(bytes(data), "send bytes")
        else:
            raise TypeError(f"send() takes str or bytes, got {type(data).__name__}")

    async def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        """Send ``data`` as JSON, in a text frame (``mode="text"``) or UTF-8 binary frame."""
        _check_mode(mode)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._send(text if mode == "text" else text.encode("utf-8"), "send JSON")

    def post(self, data: str | bytes) -> bool:
        """Queue a text (``str``) or binary (``bytes``) message without waiting, for fan-out.

        The session's writer sends it in order after anything queued before.
        Returns ``False`` if the session is closed or is being closed because its
        queue is full (``overflow="block"`` or ``"close"``: the client is too
        slow, close 1013); under ``"drop_oldest"`` the oldest queued message
        makes room instead.
        """
        if not isinstance(data, str | bytes):
            raise TypeError(f"post() takes str or bytes, got {type(data).__name__}")
        if self._state is not _ACCEPTED:
            if self._state is _CONNECTING:
                raise WebSocketStateError("cannot post before accept(): call `await session.accept()` first")
            return False
        return self._outbox.post(data)

    def _deliver(self, data: str | bytes) -> bool:
        """:meth:`post` for the hub's fan-out: on asyncio, a member whose line is idle is written to at once.

        The write runs in the publisher's task up to its first wait (most never
        wait), so a broadcast starts no task per member; one that must wait
        goes on in the member's writer task, and queue and policy apply as for :meth:`post`.
        """
        if self._state is not _ACCEPTED:
            return False
        return self._outbox.post(data, eager=True)

    async def _send(self, data: str | bytes, operation: str) -> None:
        if _serving() is not self._supervisor and self._supervisor is not None:
            self._send_from_outside(data, operation)
            return
        if self._state is not _ACCEPTED:
            self._raise_for_state(operation)
        try:
            await self._outbox.send(data)
        except (SessionClosedError, WebSocketDisconnect) as exc:
            self._send_failed(exc, operation)

    def _send_from_outside(self, data: str | bytes, operation: str) -> None:
        """A send from a task that is not this session's own: queued as by :meth:`post`, never waiting.

        This is what keeps a broadcast loop (``for member in members: await
        member.send_text(text)``) from stalling behind one member that stopped
        reading: that member's queue fills, it is closed with 1013, and the loop
        goes on. A message for a session that is already closed is dropped.
        """
        state = self._state
        if state is _ACCEPTED:
            self._outbox.post(data, eager=True)
        elif state is _CONNECTING:
            self._raise_for_state(operation)
        else:
            logger.debug("%s: dropped a message sent from another task after the session closed", self.path)

    def _send_failed(
        self, exc: SessionClosedError | WebSocketDisconnect, operation: str, cause: BaseException | None = None
    ) -> NoReturn:
        if isinstance(exc, WebSocketDisconnect):
            self._mark_gone(exc.code, exc.reason)
            raise SessionClosedError(operation, exc.code, exc.reason) from (cause or exc)
        # the queue overflowed, or the session closed while this send waited
        code = _OVERFLOWED if self._close_code is None else self._close_code
        raise SessionClosedError(operation, code, self._close_reason) from None

    # -- receiving -------------------------------------------------------

    def receive(self) -> Coroutine[Any, Any, str | bytes]:
        """Wait for the next message: ``str`` for text, ``bytes`` for binary (``await`` it).

        Raises :class:`WebSocketDisconnect` once the peer is gone.
        """
        return self._receive(None, False)

    def receive_text(self) -> Coroutine[Any, Any, str]:
        """Wait for a text message; a binary one raises :class:`MessageTypeError` (close 1003)."""
        return self._receive(str, False)

    def receive_bytes(self) -> Coroutine[Any, Any, bytes]:
        """Wait for a binary message; a text one raises :class:`MessageTypeError` (close 1003)."""
        return self._receive(bytes, False)

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
        asgi = self._asgi
        try:
            if task_of is not None:
                self._receiver = task_of()
            try:
                if asgi is None:
                    message = await self._connection.receive()
                else:  # ASGIConnection.receive, written out: this runs once per message
                    try:
                        event = await asgi._receive()
                    except asgi.peer_gone_errors as exc:
                        raise asgi._gone_error() from exc
                    kind_of_event = event["type"]
                    if kind_of_event == "websocket.receive":
                        text: str | None = event.get("text")
                        message = text if text is not None else (event.get("bytes") or b"")
                    elif stop and kind_of_event == "websocket.disconnect":
                        # The end of an iteration: no WebSocketDisconnect is made only to be caught.
                        self._mark_gone(*asgi._gone_with(event))
                        raise StopAsyncIteration
                    else:
                        message = asgi.message_of(event)
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

    async def receive_json(self, mode: JSONMode = "text") -> Any:
        """Wait for a JSON message in a text frame (``mode="text"``) or UTF-8 binary frame.

        Invalid JSON or UTF-8 raises :class:`InvalidPayloadError` (close 1007).
        """
        _check_mode(mode)
        if mode == "text":
            return _decode_json(await self.receive_text())
        payload = await self.receive_bytes()
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPayloadError(f"binary JSON message is not valid UTF-8: {exc.reason}") from None
        return _decode_json(text)

    def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the peer disconnects, then stop cleanly."""
        return _Messages(self, str)

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary messages until the peer disconnects, then stop cleanly."""
        return _Messages(self, bytes)

    async def iter_json(self, mode: JSONMode = "text") -> AsyncIterator[Any]:
        """Yield decoded JSON messages until the peer disconnects, then stop cleanly."""
        _check_mode(mode)
        try:
            while True:
                yield await self.receive_json(mode)
        except WebSocketDisconnect:
            return

    # -- closing ---------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL, reason: str | None = None) -> None:
        """Close the session; before accept this refuses the handshake (HTTP 403).

        Closing a session that is already closed does nothing.
        """
        code = _check_close_code(code)
        reason = check_reason(reason) if reason else ""
        if self._state is _CLOSED:
            return
        if self._state is _ACCEPTED and (self._outbox.writing or len(self._outbox)):
            await self._outbox.flush(self._limits.send_timeout)
            if self.closed:
                return
        await self._close_now(code, reason)

    # -- internals -------------------------------------------------------

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

    def _overflow(self, reason: str) -> None:
        """The client reads too slowly for the outgoing queue: close with 1013 without making the sender wait."""
        if self._state is not _ACCEPTED:
            return
        self._begin_close(_OVERFLOWED, reason)
        if self._supervisor is not None:
            self._supervisor.limit_hit(_OVERFLOWED, reason, "send_queue")
        else:
            log_limit(self.path, _OVERFLOWED, reason, "send_queue")

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

    def _finish(self) -> None:
        """The handler is done: run what others registered for the end of the session (the hub's leaving).

        The outbox lets go of this session too (nothing is sent any more), so
        the session is freed by reference counting, without the cycle collector.
        """
        self._outbox.detach()
        finalizers, self._finalizers = self._finalizers, None
        for finalize in finalizers or ():
            try:
                finalize()
            except Exception:
                logger.warning("a finalizer of %s raised", self.path, exc_info=True)

    def _at_finish(self, finalize: Callable[[], None]) -> None:
        """Call ``finalize`` once the handler is done (the hub's leaving)."""
        if self._finalizers is None:
            self._finalizers = []
        self._finalizers.append(finalize)

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


def _check_mode(mode: str) -> None:
    if mode != "text" and mode != "binary":
        raise ValueError(f"JSON mode must be 'text' or 'binary', got {mode!r}")


def _decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidPayloadError(f"message is not valid JSON: {exc}") from None


def _check_close_code(code: int) -> int:
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"close code must be an int, got {type(code).__name__}")
    if code in _RESERVED_CODES or not (code == 1000 or 1001 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(f"{code} is not a close code an endpoint may send (1000-1014 or 3000-4999)")
    return int(code)


def _encode_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> RawHeaders:
    if not headers:
        return ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    raw: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("accept() headers are str names and str values")
        if any(ch in name + value for ch in "\r\n\0") or not name:
            raise ValueError(f"invalid header {name!r}: empty name or control characters")
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return raw


class _Messages(AsyncIterator[_M]):
    """``session.iter_text()`` and ``iter_bytes()``: each step is one call of the session's receive.

    Not an async generator: a generator would hold a frame of its own for as
    long as the loop runs, and cost a call more per message.
    """

    __slots__ = ("_session", "_kind")

    def __init__(self, session: WebSocketSession, kind: type[_M]) -> None:
        self._session = session
        self._kind: type[_M] = kind

    def __aiter__(self) -> _Messages[_M]:
        return self

    def __anext__(self) -> Coroutine[Any, Any, _M]:
        return self._session._receive(self._kind, True)
