"""``Figures``: the operational figures an application keeps while its metrics are on, as plain in-process tallies.

The core counts here and nothing else: integers in dictionaries keyed by
bounded attributes (an endpoint's path *template*, a declared message type, a
close code, a fixed word), never a session id, a user, a room or a raw path.
Reporting them is another layer's business: the OpenTelemetry instruments of
:mod:`pyfly_ws.telemetry` read them when a reader collects, and the
Prometheus page when it is scraped, so no message ever pays for an
OpenTelemetry call. Only the end of a session calls out, to the
:attr:`Figures.session_ended` listeners (the ``session.duration`` histogram).

Per-message figures live in one :class:`Traffic` per endpoint, counted by
:class:`~pyfly_ws.session.counted.CountedSession`, the session class the
lifecycle uses only while the application's metrics are on; without them
the message path is exactly the plain one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Final, Literal

__all__ = [
    "DURATION_BUCKETS",
    "UNKNOWN_ENDPOINT",
    "UNKNOWN_TYPE",
    "Buckets",
    "Figures",
    "HandlerTime",
    "Initiator",
    "Outcome",
    "Reason",
    "Traffic",
]

Outcome = Literal["accepted", "refused"]
"""How a handshake ended."""
Reason = Literal["", "origin", "unauthenticated", "forbidden", "guard", "drain", "not_found", "limit", "error"]
"""Why a handshake was refused (``""`` for an accepted one)."""
Initiator = Literal["client", "server", "limit", "drain"]
"""Who closed a session: the peer, the application, one of its limits, or a drain."""

UNKNOWN_TYPE: Final = "_unknown"
"""The message type reported for any type the endpoint does not declare, or a frame that is no message."""
UNKNOWN_ENDPOINT: Final = "_unknown"
"""The endpoint reported for a handshake to a path no endpoint serves."""

DURATION_BUCKETS: tuple[float, ...] = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 86400.0)
"""The upper bounds, in seconds, of the ``session.duration`` buckets the Prometheus page shows."""


class Buckets:
    """A histogram of plain counts: how many observations fell at or under each bound, their sum and count."""

    __slots__ = ("bounds", "counts", "total", "count")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        """Per bucket (not cumulative); the last one is above every bound."""
        self.total = 0.0
        self.count = 0

    def add(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1


class HandlerTime:
    """One message type of a message-level endpoint: the messages received and the seconds their handling took."""

    __slots__ = ("received", "seconds")

    def __init__(self) -> None:
        self.received = 0
        self.seconds = 0.0


class Traffic:
    """One endpoint's messages: counted in and out, in bytes too (UTF-8 for text), and what the outgoing queue dropped.

    The counting session adds to these fields directly, once per message: an
    attribute add each, no call.
    """

    __slots__ = ("received", "received_bytes", "sent", "sent_bytes", "dropped", "types", "unknown")

    def __init__(self, types: Iterable[str] = ()) -> None:
        self.received = 0
        self.received_bytes = 0
        self.sent = 0
        self.sent_bytes = 0
        self.dropped: dict[str, int] = {}
        """Messages the outgoing queue discarded, by overflow policy (``drop_oldest``; ``block`` and ``close`` ones
        refused when the queue was full)."""
        self.types: dict[str, HandlerTime] = {kind: HandlerTime() for kind in types}
        """For a message-level endpoint: its declared message types (and the reserved ``reply`` and ``error``)."""
        self.unknown = HandlerTime()
        """Messages of an undeclared type, or frames that are no message: reported as :data:`UNKNOWN_TYPE`."""

    def declare(self, types: Iterable[str]) -> None:
        """Count these message types by name from now on (a message-level endpoint's, once it serves)."""
        for kind in types:
            self.types.setdefault(kind, HandlerTime())


class Figures:
    """Every figure of one application (one :class:`~pyfly_ws.SessionRegistry`), kept while its metrics are on."""

    __slots__ = ("traffic", "handshakes", "closes", "slow_clients", "durations", "session_ended")

    def __init__(self) -> None:
        self.traffic: dict[str, Traffic] = {}
        """Per endpoint path template."""
        self.handshakes: dict[tuple[str, Outcome, Reason], int] = {}
        """By ``(endpoint, outcome, reason)``."""
        self.closes: dict[tuple[str, int, Initiator], int] = {}
        """Sessions closed after accept, by ``(endpoint, close code, initiator)``."""
        self.slow_clients: dict[tuple[str, str], int] = {}
        """Sessions closed because the client read too slowly, by ``(endpoint, limit)``: ``send_queue`` or
        ``send_timeout``."""
        self.durations: dict[str, Buckets] = {}
        """Seconds from accept to the end of the session, per endpoint."""
        self.session_ended: list[Callable[[str, float], None]] = []
        """Called with ``(endpoint, seconds)`` as each accepted session ends (the OpenTelemetry histogram)."""

    def traffic_of(self, endpoint: str) -> Traffic:
        """The :class:`Traffic` of the endpoint at ``endpoint`` (made on first use)."""
        traffic = self.traffic.get(endpoint)
        if traffic is None:
            traffic = self.traffic[endpoint] = Traffic()
        return traffic

    def handshake(self, endpoint: str, outcome: Outcome, reason: Reason = "") -> None:
        """Count a handshake to ``endpoint``, accepted or refused for ``reason``."""
        key = (endpoint, outcome, reason)
        self.handshakes[key] = self.handshakes.get(key, 0) + 1

    def closed(self, endpoint: str, code: int, initiator: Initiator, seconds: float, cause: str | None) -> None:
        """Count an accepted session's end: its close code, who closed it, how long it lasted, what limit if any."""
        key = (endpoint, code, initiator)
        self.closes[key] = self.closes.get(key, 0) + 1
        if cause == "send_queue" or cause == "send_timeout":
            slow = (endpoint, cause)
            self.slow_clients[slow] = self.slow_clients.get(slow, 0) + 1
        buckets = self.durations.get(endpoint)
        if buckets is None:
            buckets = self.durations[endpoint] = Buckets(DURATION_BUCKETS)
        buckets.add(seconds)
        for listener in self.session_ended:
            listener(endpoint, seconds)
