"""``CountedSession``: the session the lifecycle uses while an application's metrics are on.

It is :class:`~pyfly_ws.WebSocketSession` with each message counted into its
endpoint's :class:`~pyfly_ws.session.figures.Traffic` (an attribute add, no
call out), and with who closed it remembered, for the ``closes`` figure. The
lifecycle picks the class once per connection; without metrics every session
is the plain class, so the message path is exactly the plain one, and
``python -m bench.micro`` cannot tell the two builds apart. What a counted
message costs is measured by ``python -m bench.metrics``.

Outgoing messages are counted where the application hands them over, each
once: a ``send_*`` from the session's own tasks as it starts, one from another
task as it is queued, a ``post`` or a hub delivery by :class:`CountedOutbox`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import MessageTypeError, SessionClosedError, WebSocketDisconnect
from ..mapping.limits import Limits
from .connection import Connection
from .figures import Figures, Initiator, Traffic
from .outbox import Outbox
from .session import Serving, WebSocketSession
from .wire import _ACCEPTED, _CLOSED, Wire, _monotonic, _serving

__all__ = ["CountedOutbox", "CountedSession", "session_over", "traffic_of"]


def _size(data: str | bytes) -> int:
    """Bytes on the wire: UTF-8 for text (measured only when it is not ASCII)."""
    if type(data) is str and not data.isascii():
        return len(data.encode("utf-8", "surrogatepass"))
    return len(data)


class CountedOutbox(Outbox):
    """The outbox of a counted session: counts what is posted (``post``, the hub) and what the queue drops."""

    __slots__ = ("_traffic",)

    _traffic: Traffic

    def post(self, data: str | bytes, *, eager: bool = False) -> bool:
        limits = self._limits
        full = not self.closed and len(self._queue) >= limits.send_queue
        if Outbox.post(self, data, eager=eager):
            traffic = self._traffic
            traffic.sent += 1
            traffic.sent_bytes += _size(data)
            return True
        if full:  # refused by a full queue under "block" or "close" (the session closes): the message is lost
            dropped = self._traffic.dropped
            dropped[limits.overflow] = dropped.get(limits.overflow, 0) + 1
        return False

    def _drop_oldest(self) -> None:
        Outbox._drop_oldest(self)
        dropped = self._traffic.dropped
        dropped["drop_oldest"] = dropped.get("drop_oldest", 0) + 1


class CountedSession(WebSocketSession):
    """A session whose messages are counted into its endpoint's traffic (see the module docstring)."""

    __slots__ = ("_traffic", "_figures", "_endpoint", "_initiator", "_cause", "_opened")

    def __init__(
        self,
        connection: Connection,
        path_params: Mapping[str, Any] | None,
        limits: Limits,
        supervisor: Serving | None,
        figures: Figures,
        endpoint: str,
    ) -> None:
        super().__init__(connection, path_params, limits, supervisor)
        self._traffic = figures.traffic_of(endpoint)
        self._figures = figures
        self._endpoint = endpoint
        self._initiator: Initiator | None = None
        self._cause: str | None = None
        self._opened = 0.0

    def _new_outbox(self) -> Outbox:
        outbox = CountedOutbox(self._connection, self._overflow, self._limits, self._supervisor)
        outbox._traffic = self._traffic
        return outbox

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        await WebSocketSession.accept(self, subprotocol, headers)
        self._opened = _monotonic()
        self._figures.handshake(self._endpoint, "accepted")

    # _receive and send_text are Wire's, written out with the count (the lines marked "# counted"): wrappers
    # around them cost a frame more per message (bench.opcodes, an echo: 84 instructions more than the plain
    # session, against 61 written out). tests/core/test_metrics_options.py checks that each is still its twin.

    async def _receive(self, kind: Any, stop: bool) -> Any:
        """:meth:`Wire._receive <pyfly_ws.session.wire.Wire._receive>`, counting the message."""
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
                            if self._initiator is None:  # counted
                                self._initiator = "client"  # counted
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
        traffic = self._traffic  # counted
        traffic.received += 1  # counted
        size = len(message) if type(message) is bytes or message.isascii() else _size(message)  # counted
        traffic.received_bytes += size  # counted
        if self._timed or len(message) > self._big:
            broken = self._inspect(message)
            if broken is not None:
                await self._break(*broken)
        if kind is not None and type(message) is not kind:
            wanted, got = ("text", "binary") if kind is str else ("binary", "text")
            raise MessageTypeError(f"expected a {wanted} message, received a {got} one")
        return message

    async def send_text(self, data: str) -> None:
        """:meth:`Wire.send_text <pyfly_ws.session.wire.Wire.send_text>`, counting the message."""
        if not isinstance(data, str):
            raise TypeError(f"send_text() takes str, got {type(data).__name__}")
        if _serving() is not self._supervisor and self._supervisor is not None:
            self._send_from_outside(data, "send text")
            return
        if self._state is not _ACCEPTED:
            self._raise_for_state("send text")
        traffic = self._traffic  # counted
        traffic.sent += 1  # counted
        traffic.sent_bytes += len(data) if data.isascii() else _size(data)  # counted
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

    async def _send(self, data: str | bytes, operation: str) -> None:
        if self._state is _ACCEPTED and (self._supervisor is None or _serving() is self._supervisor):
            traffic = self._traffic  # from another task, _send_from_outside counts it
            traffic.sent += 1
            traffic.sent_bytes += len(data) if type(data) is bytes else _size(data)
        await Wire._send(self, data, operation)

    def _send_from_outside(self, data: str | bytes, operation: str) -> None:
        if self._state is _ACCEPTED:
            traffic = self._traffic
            traffic.sent += 1
            traffic.sent_bytes += _size(data)
            Outbox.post(self._outbox_made(), data, eager=True)  # the plain post: counted here, once
        else:
            Wire._send_from_outside(self, data, operation)

    def _mark_gone(self, code: int, reason: str) -> None:
        if self._state is not _CLOSED and self._initiator is None:
            self._initiator = "client"
        Wire._mark_gone(self, code, reason)

    def _begin_close(self, code: int, reason: str) -> None:
        if self._initiator is None:
            self._initiator = "server"
        Wire._begin_close(self, code, reason)

    async def _break(self, limit: str, code: int, why: str) -> None:
        self._closed_by(limit)
        await Wire._break(self, limit, code, why)

    def _closed_by(self, cause: str) -> None:
        if self._cause is None:
            self._cause = cause


def traffic_of(session: WebSocketSession) -> Traffic | None:
    """The traffic ``session`` counts into, or ``None`` when its application's metrics are off."""
    return session._traffic if isinstance(session, CountedSession) else None


def session_over(session: WebSocketSession) -> None:
    """Count how a counted session ended (the lifecycle calls this once its handler is done)."""
    if not isinstance(session, CountedSession):
        return
    figures, endpoint = session._figures, session._endpoint
    cause = session._cause
    if not session.accepted:
        figures.handshake(endpoint, "refused", "error" if cause == "error" else "guard")
        return
    initiator: Initiator = session._initiator or "server"
    if initiator == "server" and cause is not None:
        initiator = "drain" if cause == "drain" else "limit"
    code = session.close_code if session.close_code is not None else 1006
    figures.closed(endpoint, code, initiator, _monotonic() - session._opened, cause)
