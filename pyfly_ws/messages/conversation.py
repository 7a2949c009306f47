"""One session of a message-level endpoint: read frames, dispatch them by type, answer; push and ask.

By default a session's messages are read and handled in one loop, one at a
time, in arrival order, with no task of their own. A reader task takes over
the receiving when it must not wait for a handler: from the start with
``concurrency`` > 1 (then ``concurrency`` workers share the received
messages), or once a server request is pending while a handler runs (so the
client's reply is read at once). Received messages then wait in a queue of
``backlog`` messages; past it the reader stops reading until a handler is done.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..exceptions import MessageError, SessionClosedError, WebSocketDisconnect, WebSocketStateError
from ..mapping.guards import Reject
from ..mapping.messages import (
    PROTOCOL_ERRORS_CLOSE,
    RESERVED_TYPES,
    UNDECODABLE_CLOSE,
    CodecError,
    Message,
    MessageId,
    MessageOptions,
)
from ..session.counted import traffic_of
from ..session.figures import UNKNOWN_TYPE, Traffic
from ..session.session import WebSocketSession, attach_messenger, credentials_of, sign_in, trace_of
from ..session.tracing import MessageTrace, SessionTrace
from .encoding import to_data
from .frames import Frames, check_message_type
from .payloads import PayloadError
from .requests import Waiter, answer, ask, fail_all
from .routes import MESSAGE, PAYLOAD, SESSION, Route

__all__ = ["Bound", "CarryingConversation", "Conversation", "CountedConversation", "TracedConversation"]

logger = logging.getLogger("pyfly_ws")

Caller = Callable[[Any, WebSocketSession, Message | None, Any], Any]


def _caller(layout: tuple[str, ...]) -> Caller:
    """How to call a handler with its parameters' layout; the common layouts without building a list."""
    if layout == (SESSION, PAYLOAD):
        return lambda method, session, message, payload: method(session, payload)
    if layout == (PAYLOAD,):
        return lambda method, session, message, payload: method(payload)
    if layout == (SESSION,):
        return lambda method, session, message, payload: method(session)
    if layout == ():
        return lambda method, session, message, payload: method()
    picks = {SESSION: 0, MESSAGE: 1, PAYLOAD: 2}
    order = tuple(picks[kind] for kind in layout)
    return lambda method, session, message, payload: method(*[(session, message, payload)[i] for i in order])


class Bound:
    """A dispatcher's routes bound to one controller instance: what each message needs, looked up once."""

    __slots__ = ("instance", "routes", "on_connect", "on_message", "frames", "options", "name")

    def __init__(
        self,
        instance: Any,
        routes: dict[str, Route],
        hooks: dict[str, bool],
        frames: Frames,
        options: MessageOptions,
        name: str,
    ) -> None:
        self.instance = instance
        self.routes = {
            kind: (route, getattr(instance, route.method), _caller(route.layout), route.wants_message)
            for kind, route in routes.items()
        }
        self.on_connect: Callable[..., Any] | None = instance.on_connect if "on_connect" in hooks else None
        self.on_message: Callable[..., Any] | None = instance.on_message if "on_message" in hooks else None
        self.frames = frames
        self.options = options
        self.name = name

    async def serve(self, session: WebSocketSession) -> None:
        """Run one session (the handler the lifecycle calls), counting and tracing as its application asks.

        The choice is made here, once per session: an application that counts
        and traces nothing runs the plain :class:`Conversation`, whose message
        path holds no check for either. Telemetry counts and traces; a
        Prometheus page alone counts.
        """
        traffic = traffic_of(session)
        trace = trace_of(session)
        if trace is None:
            if traffic is None:
                await Conversation(self, session).run()
            else:
                await CountedConversation(self, session, traffic).run()
            return
        if traffic is None:  # a registry given a tracer of its own, without metrics: a tally nobody reads
            traffic = Traffic()
        if trace.message_spans:
            await TracedConversation(self, session, traffic, trace).run()
        else:
            await CarryingConversation(self, session, traffic, trace).run()


class _Undecodable:
    """A frame the codec could not decode, on its way to the handling loop."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Conversation:
    """The state of one session of a message-level endpoint; also its messenger (``emit``, ``request``)."""

    __slots__ = (
        "bound",
        "session",
        "frames",
        "routes",
        "send",
        "decode",
        "encode",
        "errors",
        "pending",
        "next_id",
        "receiving",
        "open",
        "group",
        "inbox",
        "feed",
        "ended",
        "workers",
        "idle",
        "_type",
        "_id",
        "_data",
    )

    def __init__(self, bound: Bound, session: WebSocketSession) -> None:
        self.bound = bound
        self.session = session
        self.frames = frames = bound.frames
        self.routes = bound.routes
        self.send: Callable[[Any], Awaitable[None]] = session.send_bytes if frames.binary else session.send_text
        self.decode = frames.codec.decode
        self.encode = frames.encode
        self.errors = 0
        """Consecutive protocol errors."""
        self.pending: dict[str, Waiter] = {}
        self.next_id = 0
        self.receiving = False
        self.open = False
        self.group: anyio.abc.TaskGroup | None = None
        self.inbox: MemoryObjectReceiveStream[Any] | None = None
        self.feed: MemoryObjectSendStream[Any] | None = None
        self.ended: Exception | None = None
        self.workers = 0
        self.idle: anyio.Event | None = None
        envelope = frames.envelope
        self._type, self._id, self._data = envelope.type, envelope.id, envelope.data

    # -- the session -----------------------------------------------------------

    async def run(self) -> None:
        """Connect, then read and handle messages until the session ends."""
        session = self.session
        attach_messenger(session, self)
        ending: Exception | None = None  # raised outside the task group, which would wrap it in a group
        async with anyio.create_task_group() as group:
            self.group, self.open = group, True
            try:
                credentials = credentials_of(session)
                if credentials is not None and credentials.pending:
                    await session.accept()  # a first-message token: signed in before on_connect
                    await self._sign_in()
                hook = self.bound.on_connect
                if hook is not None:
                    result = hook(session)
                    if inspect.isawaitable(result):
                        await result
                if session.closed:
                    return
                if not session.accepted:
                    await session.accept()
                concurrency = self.bound.options.concurrency
                if concurrency > 1:
                    self._start_reader()
                    for _ in range(concurrency - 1):
                        group.start_soon(self._work)
                    await self._work_then_end()
                else:
                    await self._inline()
            except Exception as exc:
                ending = exc
            finally:
                self.open = False
                self._fail_pending()
                if self.inbox is not None:  # the reader (and workers) run: the reader waits on the client
                    group.cancel_scope.cancel()  # (costly on anyio 4.16: it formats the current task's repr)
        if self.inbox is not None:
            self.inbox.close()
        if ending is not None:
            raise ending

    async def _inline(self) -> None:
        receive = self.session.receive
        decode = self.decode
        handle = self._handle
        while self.inbox is None:
            self.receiving = True
            try:
                frame = await receive()
            finally:
                self.receiving = False
            try:
                doc = decode(frame)
            except CodecError as exc:
                doc = _Undecodable(str(exc))
            if self.pending:
                if self._answer(doc):
                    continue
                self._start_reader()  # a handler runs next: the reply must not wait for it
            await handle(doc)
        await self._work_then_end()

    async def _sign_in(self) -> None:
        """Read the ``auth`` message that must come first, and sign in with its token (or close with 1008)."""
        session = self.session
        frame = await session.receive()
        try:
            doc = self.decode(frame)
        except CodecError:
            doc = None
        token = None
        mid = None
        if doc.__class__ is dict and doc.get(self._type) == "auth":
            data = doc.get(self._data)
            token = data.get("token") if data.__class__ is dict else None
            mid = doc.get(self._id)
        principal = await sign_in(session, token if token.__class__ is str else None)
        if mid.__class__ is str or mid.__class__ is int:
            await self._send(self.frames.reply(mid, _signed(principal)))

    async def _refresh(self, mid: MessageId | None, doc: dict[str, Any]) -> None:
        """Answer an ``auth.refresh`` message: a fresh token for the same identity, verified like the first."""
        data = doc.get(self._data)
        token = data.get("token") if data.__class__ is dict else None
        try:
            principal = await self.session.refresh(token)  # type: ignore[arg-type]  # checked by refresh
        except WebSocketStateError:
            await self._protocol_error(mid, "unknown_type", "this endpoint signs no one in: nothing to refresh")
            return
        except Reject as refusal:
            self.errors = 0
            code = "unauthorized" if refusal.status == 401 else "forbidden"
            await self._send_error(mid, code, refusal.reason or "refused")
            return
        self.errors = 0
        if mid is not None:
            await self._send(self.frames.reply(mid, _signed(principal)))

    def _start_reader(self) -> None:
        if self.inbox is not None or not self.open or self.group is None:
            return
        self.feed, self.inbox = anyio.create_memory_object_stream[Any](self.bound.options.backlog)
        self.group.start_soon(self._read)

    async def _read(self) -> None:
        assert self.feed is not None
        receive = self.session.receive
        decode = self.decode
        with self.feed as feed:
            try:
                while True:
                    frame = await receive()
                    try:
                        doc = decode(frame)
                    except CodecError as exc:
                        doc = _Undecodable(str(exc))
                    if self.pending and self._answer(doc):
                        continue
                    await feed.send(doc)
            except anyio.BrokenResourceError:
                pass  # the handling side is gone: the session ends
            except Exception as exc:  # the disconnect, or a limit that closed the session
                self.ended = exc
                self._fail_pending()  # now: a handler waiting on a request must not wait out its timeout

    async def _work(self) -> None:
        assert self.inbox is not None
        self.workers += 1
        try:
            async for doc in self.inbox:
                await self._handle(doc)
        finally:
            self.workers -= 1
            if self.workers == 0 and self.idle is not None:
                self.idle.set()

    async def _work_then_end(self) -> None:
        """Handle queued messages until the reader stops, wait for the other workers, then end as it ended."""
        await self._work()
        if self.workers:
            self.idle = anyio.Event()
            await self.idle.wait()
        if self.ended is not None:
            raise self.ended

    def _fail_pending(self) -> None:
        if self.pending:
            session = self.session
            code, reason = session.close_code or 1006, session.close_reason
            fail_all(self.pending, lambda: SessionClosedError("get a reply to a server request", code, reason))

    # -- one message -----------------------------------------------------------

    async def _handle(self, doc: Any) -> None:
        if doc.__class__ is not dict:
            if doc.__class__ is _Undecodable:
                await self._protocol_error(None, "invalid_frame", doc.reason, undecodable=True)
            else:
                await self._protocol_error(None, "invalid_envelope", "a message is an object with a string type")
            return
        mid = doc.get(self._id)
        if mid is not None and mid.__class__ is not str and mid.__class__ is not int:
            await self._protocol_error(None, "invalid_envelope", "a message id is a string or an integer")
            return
        kind = doc.get(self._type)
        if kind.__class__ is not str:
            await self._protocol_error(mid, "invalid_envelope", "a message needs a string type")
            return
        entry = self.routes.get(kind)
        if entry is None:
            await self._unmapped(kind, mid, doc)
            return
        route, method, call, wants_message = entry
        payload = doc.get(self._data)  # as decoded, for the Message of a handler that takes no payload
        if route.decode is not None:
            try:
                payload = route.decode(payload)
            except PayloadError as exc:
                errors = [error.to_data() for error in exc.errors]
                await self._protocol_error(mid, "invalid_payload", f"invalid data for {kind!r}", errors)
                return
        message = Message(kind, mid, payload) if wants_message else None
        try:
            if route.guards and not await self._admitted(route, message):
                return
            result = call(method, self.session, message, payload)
            if route.is_async:
                result = await result
            if mid is not None:  # Frames.reply, written out
                frame = self.encode({self._type: "reply", self._id: mid, self._data: route.encode(result)})
        except Exception as exc:
            await self._failed(exc, route.where, kind, mid)
            return
        self.errors = 0
        if mid is not None:  # _send, written out: the reply is most messages' only frame out
            try:  # noqa: SIM105
                await self.send(frame)
            except WebSocketDisconnect:
                pass

    async def _admitted(self, route: Route, message: Message | None) -> bool:
        for guard in route.guards:
            result = guard(self.session, message)
            if inspect.isawaitable(result):
                result = await result
            if result is False:
                self.errors = 0
                await self._send_error(message.id if message else None, "forbidden", "message refused")
                return False
        return True

    async def _unmapped(self, kind: str, mid: MessageId | None, doc: dict[str, Any]) -> None:
        if kind == "auth.refresh":
            await self._refresh(mid, doc)
            return
        if kind in RESERVED_TYPES:
            if not self._answer(doc):
                logger.debug("%s: ignored a %s to no pending server request (id %r)", self.bound.name, kind, mid)
            return
        hook = self.bound.on_message
        if hook is None:
            await self._protocol_error(mid, "unknown_type", f"no handler for message type {kind!r}")
            return
        try:
            result = hook(self.session, Message(kind, mid, doc.get(self._data)))
            if inspect.isawaitable(result):
                result = await result
            frame = self.frames.reply(mid, to_data(result)) if mid is not None else None
        except Exception as exc:
            await self._failed(exc, f"{self.bound.name}.on_message", kind, mid)
            return
        self.errors = 0
        if frame is not None:
            await self._send(frame)

    async def _failed(self, exc: Exception, where: str, kind: str, mid: MessageId | None) -> None:
        """Answer what a handler or guard raised: its ``MessageError``, or ``internal_error`` (logged).

        Either way the message was a valid one: the row of protocol errors ends.
        """
        self.errors = 0
        if isinstance(exc, MessageError):
            await self._send_error(mid, exc.code, exc.message, exc.errors)
        elif isinstance(exc, WebSocketDisconnect):
            pass  # the session ended under the handler: nothing to answer
        else:
            logger.warning(
                "%s (%s) raised handling message type %r (id %r); answered internal_error",
                where,
                self.session.path,
                kind,
                mid,
                exc_info=exc,
            )
            await self._send_error(mid, "internal_error", "internal error")

    async def _protocol_error(
        self,
        mid: MessageId | None,
        code: str,
        message: str,
        errors: list[Any] | None = None,
        *,
        undecodable: bool = False,
    ) -> None:
        await self._send_error(mid, code, message, errors)
        self.errors += 1
        limit = self.bound.options.max_protocol_errors
        if self.errors >= limit and not self.session.closed:
            close_code = UNDECODABLE_CLOSE if undecodable else PROTOCOL_ERRORS_CLOSE
            logger.info(
                "%s: closing with %d: %d protocol errors in a row (last: %s)",
                self.bound.name,
                close_code,
                self.errors,
                code,
            )
            await self.session.close(close_code, "too many protocol errors")

    async def _send_error(
        self, mid: MessageId | None, code: str, message: str, errors: list[Any] | None = None
    ) -> None:
        await self._send(self.frames.error(mid, code, message, errors))

    async def _send(self, frame: str | bytes) -> None:
        # try/except rather than contextlib.suppress: no object and no calls per message (bench.opcodes: 24 fewer)
        try:  # noqa: SIM105
            await self.send(frame)
        except WebSocketDisconnect:
            pass  # the client left: the loop sees it and ends the session

    def _answer(self, doc: Any) -> bool:
        return answer(self.pending, self.frames.envelope, doc)

    # -- the messenger (session.emit, session.request) ---------------------------

    async def emit(self, type: str, data: Any) -> None:
        """Send the push ``{"type": type, "data": data}``."""
        check_message_type(type)
        await self.send(self.frames.push(type, to_data(data)))

    async def request(self, type: str, data: Any, timeout: float) -> Any:  # noqa: ASYNC109
        """Send a request with a fresh id; the data of the client's reply."""
        check_message_type(type)
        self.next_id += 1
        rid = f"s{self.next_id}"
        if not self.receiving:
            self._start_reader()  # the loop is inside a handler (or this is on_connect): read the reply beside it
        return await ask(self.pending, rid, self.send, self.frames.request(type, rid, to_data(data)), timeout, type)


def _signed(principal: Any) -> dict[str, Any]:
    """The data of the reply to a sign-in or a refresh."""
    return {"identity": principal.identity, "expires_at": principal.expires_at}


class CountedConversation(Conversation):
    """A conversation that counts each message by type, and the seconds its handling took, into its traffic.

    The type is the declared one, or :data:`~pyfly_ws.session.figures.UNKNOWN_TYPE`
    for any other (the tally holds only the declared types, so a client cannot
    add names); handling runs from the decoded frame to the reply written.
    """

    __slots__ = ("traffic",)

    def __init__(self, bound: Bound, session: WebSocketSession, traffic: Traffic) -> None:
        super().__init__(bound, session)
        self.traffic = traffic
        if not traffic.types:
            traffic.declare([*bound.routes, *RESERVED_TYPES])

    async def _handle(self, doc: Any) -> None:
        started = time.perf_counter()
        try:
            await Conversation._handle(self, doc)
        finally:
            kind = doc.get(self._type) if doc.__class__ is dict else None
            traffic = self.traffic
            counted = traffic.types.get(kind) if kind.__class__ is str else None
            if counted is None:
                counted = traffic.unknown
            counted.received += 1
            counted.seconds += time.perf_counter() - started


# -- traced sessions (see pyfly_ws.session.tracing) --------------------------------
# An application that traces counts too (Telemetry does both), so the traced conversations are counted ones.

_message_trace: ContextVar[MessageTrace | None] = ContextVar("pyfly_ws_message_trace", default=None)
"""The span of the message whose handler runs in this task (a worker handles one message at a time)."""


class CarryingConversation(CountedConversation):
    """A session of a traced application: its pushes and server requests carry the current span's trace context."""

    __slots__ = ("trace",)

    def __init__(self, bound: Bound, session: WebSocketSession, traffic: Traffic, trace: SessionTrace) -> None:
        super().__init__(bound, session, traffic)
        self.trace = trace

    async def emit(self, type: str, data: Any) -> None:
        """Send the push ``{"type": type, "data": data, "traceparent"?: ...}``."""
        check_message_type(type)
        carrier = self.trace.carrier()
        frames = self.frames
        await self.send(
            frames.traced(type, None, to_data(data), carrier) if carrier else frames.push(type, to_data(data))
        )

    async def request(self, type: str, data: Any, timeout: float) -> Any:  # noqa: ASYNC109
        """Send a request with a fresh id (and the current trace context); the data of the client's reply."""
        check_message_type(type)
        self.next_id += 1
        rid = f"s{self.next_id}"
        if not self.receiving:
            self._start_reader()
        carrier = self.trace.carrier()
        frames = self.frames
        frame = (
            frames.traced(type, rid, to_data(data), carrier) if carrier else frames.request(type, rid, to_data(data))
        )
        return await ask(self.pending, rid, self.send, frame, timeout, type)


class TracedConversation(CarryingConversation):
    """A session with message spans on: each incoming message is a short trace of its own, linked to the handshake."""

    __slots__ = ("_traceparent", "_tracestate")

    def __init__(self, bound: Bound, session: WebSocketSession, traffic: Traffic, trace: SessionTrace) -> None:
        super().__init__(bound, session, traffic, trace)
        envelope = self.frames.envelope
        self._traceparent, self._tracestate = envelope.traceparent, envelope.tracestate

    async def _handle(self, doc: Any) -> None:
        mid: Any = None
        if doc.__class__ is dict:
            kind = doc.get(self._type)
            name = kind if kind.__class__ is str and kind in self.routes else UNKNOWN_TYPE
            span = self.trace.message(name, doc.get(self._traceparent), doc.get(self._tracestate))
            mid = doc.get(self._id)
        else:
            span = self.trace.message(UNKNOWN_TYPE, None, None)
        token = _message_trace.set(span)
        try:
            await super()._handle(doc)
        finally:
            _message_trace.reset(token)
            span.end(mid is not None)

    async def _send_error(
        self, mid: MessageId | None, code: str, message: str, errors: list[Any] | None = None
    ) -> None:
        span = _message_trace.get()
        if span is not None:
            span.failed(code)
        await super()._send_error(mid, code, message, errors)
