"""``CountedSession``: the session the lifecycle uses while an application's metrics are on.

It is :class:`~pyfly_ws.WebSocketSession` with each message counted into its
endpoint's :class:`~pyfly_ws.session.figures.Traffic` (an attribute add, no
call out), and with who closed it remembered, for the ``closes`` figure. The
lifecycle picks the class once per connection; without metrics every session
is the plain class, so the message path is exactly the plain one, and
``python -m bench.micro`` cannot tell the two builds apart. What a counted
message costs is measured by ``python -m bench.metrics``.

Outgoing messages are counted where the application hands them over (a
``send_*``, a ``post``, a hub delivery), each once: ``send_*`` counts its own,
a send from another task is queued through the plain outbox path, and
``post``/hub deliveries through :class:`CountedOutbox`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..mapping.limits import Limits
from .connection import Connection
from .figures import Figures, Initiator, Traffic
from .outbox import Outbox
from .session import Serving, WebSocketSession
from .wire import _ACCEPTED, _CLOSED, Wire

__all__ = ["CountedOutbox", "CountedSession", "session_over", "traffic_of"]

_monotonic = time.monotonic


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
        traffic = self._traffic = figures.traffic_of(endpoint)
        outbox = CountedOutbox(connection, self._overflow, limits, supervisor)
        outbox._traffic = traffic
        outbox.eager = self._outbox.eager
        self._outbox = outbox
        self._figures = figures
        self._endpoint = endpoint
        self._initiator: Initiator | None = None
        self._cause: str | None = None
        self._opened = 0.0

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        await WebSocketSession.accept(self, subprotocol, headers)
        self._opened = _monotonic()
        self._figures.handshake(self._endpoint, "accepted")

    async def _receive(self, kind: Any, stop: bool) -> Any:
        message = await Wire._receive(self, kind, stop)
        traffic = self._traffic
        traffic.received += 1
        # _size, written out: once per message
        traffic.received_bytes += len(message) if type(message) is bytes or message.isascii() else _size(message)
        return message

    async def send_text(self, data: str) -> None:
        await Wire.send_text(self, data)
        traffic = self._traffic
        traffic.sent += 1
        traffic.sent_bytes += len(data) if data.isascii() else _size(data)  # _size, written out

    async def _send(self, data: str | bytes, operation: str) -> None:
        await Wire._send(self, data, operation)
        traffic = self._traffic
        traffic.sent += 1
        traffic.sent_bytes += len(data) if type(data) is bytes else _size(data)

    def _send_from_outside(self, data: str | bytes, operation: str) -> None:
        # Queued uncounted: the send_* that called this counts the message.
        if self._state is _ACCEPTED:
            Outbox.post(self._outbox, data, eager=True)
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
