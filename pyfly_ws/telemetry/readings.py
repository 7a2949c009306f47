"""What an application's figures read as, instrument by instrument: the one table both reporters share.

:data:`INSTRUMENTS` names every instrument once (name, kind, unit,
description, attributes); :class:`Readings` turns the application's
:class:`~pyfly_ws.session.figures.Figures`, its registry and its hubs into
``(attributes, value)`` rows for one of them. The OpenTelemetry callbacks and
the Prometheus page both read these rows when they are asked, so the two
always agree, and nothing is computed between collections.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..hub.cluster import RedisClusterBackend
from ..hub.hub import Hub
from ..hub.memory import MemoryBackend
from ..hub.redis import RedisBackend
from ..lifecycle.registry import SessionRegistry
from ..session.figures import UNKNOWN_TYPE, Buckets, Figures

__all__ = ["INSTRUMENTS", "Attributes", "Instrument", "Readings", "Row"]

Attributes = dict[str, str | int]
Row = tuple[Attributes, float]
Kind = Literal["counter", "up_down_counter", "histogram"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument, as the README's table shows it."""

    name: str
    """The OpenTelemetry name, ``pyfly_ws.`` and the figure."""
    kind: Kind
    unit: str
    description: str
    attributes: tuple[str, ...]
    """Every attribute a row may carry (a row leaves out those that do not apply to it)."""


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("pyfly_ws.sessions.active", "up_down_counter", "{session}", "Sessions open now.", ("endpoint",)),
    Instrument(
        "pyfly_ws.session.duration", "histogram", "s", "Seconds from accept to the end of a session.", ("endpoint",)
    ),
    Instrument(
        "pyfly_ws.handshakes",
        "counter",
        "{handshake}",
        "Handshakes, accepted or refused (with the reason).",
        ("endpoint", "outcome", "reason"),
    ),
    Instrument(
        "pyfly_ws.messages",
        "counter",
        "{message}",
        "Messages received and sent (received ones by type on message-level endpoints).",
        ("endpoint", "direction", "message_type"),
    ),
    Instrument(
        "pyfly_ws.message.size",
        "counter",
        "By",
        "Bytes of the messages received and sent (UTF-8 for text).",
        ("endpoint", "direction"),
    ),
    Instrument(
        "pyfly_ws.message.duration",
        "counter",
        "s",
        "Seconds spent handling received messages of message-level endpoints, by type (a sum: divide by messages).",
        ("endpoint", "message_type"),
    ),
    Instrument(
        "pyfly_ws.closes",
        "counter",
        "{session}",
        "Accepted sessions closed, by close code and initiator.",
        ("endpoint", "code", "initiator"),
    ),
    Instrument(
        "pyfly_ws.send_queue.dropped",
        "counter",
        "{message}",
        "Messages the outgoing queue dropped for a slow client, by overflow policy.",
        ("endpoint", "policy"),
    ),
    Instrument(
        "pyfly_ws.slow_client.closes",
        "counter",
        "{session}",
        "Sessions closed (1013) because the client read too slowly, by limit.",
        ("endpoint", "limit"),
    ),
    Instrument("pyfly_ws.hub.publications", "counter", "{message}", "Publications made in this process.", ("backend",)),
    Instrument(
        "pyfly_ws.hub.deliveries",
        "counter",
        "{message}",
        "Messages queued for hub members in this process (from any process's publications).",
        ("backend",),
    ),
    Instrument(
        "pyfly_ws.hub.outages", "counter", "{outage}", "Times the hub's backend became unreachable.", ("backend",)
    ),
    Instrument(
        "pyfly_ws.hub.reconnections",
        "counter",
        "{reconnection}",
        "Times the hub's backend became reachable again after an outage.",
        ("backend",),
    ),
    Instrument(
        "pyfly_ws.hub.unheard_rooms",
        "up_down_counter",
        "{room}",
        "Rooms with members here whose publications the backend does not receive right now (a lost link).",
        ("backend",),
    ),
    Instrument(
        "pyfly_ws.hub.replays",
        "counter",
        "{message}",
        "Publications replayed to members that rejoined a room with history from a position.",
        ("backend",),
    ),
    Instrument(
        "pyfly_ws.hub.resyncs",
        "counter",
        "{room}",
        "Rooms whose members here were told to resync: publications may have been missed in an outage.",
        ("backend",),
    ),
)
"""Every instrument, in the README's order."""


def _backend(hub: Hub) -> str:
    if isinstance(hub.backend, RedisClusterBackend):
        return "redis-cluster"
    if isinstance(hub.backend, RedisBackend):
        return "redis"
    if isinstance(hub.backend, MemoryBackend):
        return "memory"
    return "other"


class Readings:
    """The rows of every instrument, read from one application's figures, registry and hubs when asked."""

    __slots__ = ("registry", "figures")

    def __init__(self, registry: SessionRegistry, figures: Figures) -> None:
        self.registry = registry
        self.figures = figures

    def rows(self, name: str) -> list[Row]:
        """The rows of the instrument called ``name`` (every instrument but the histogram)."""
        return list(getattr(self, "_" + name.removeprefix("pyfly_ws.").replace(".", "_"))())

    def durations(self) -> dict[str, Buckets]:
        """``session.duration`` as plain buckets, per endpoint (the Prometheus page's histogram)."""
        return dict(self.figures.durations)

    def hubs(self) -> list[Hub]:
        """The hubs that start with the application (``services=``)."""
        return [service for service in self.registry.services if isinstance(service, Hub)]

    def _sessions_active(self) -> Iterator[Row]:
        registry = self.registry
        for path in dict.fromkeys(endpoint.path for endpoint in registry.endpoints):
            yield {"endpoint": path}, registry.count(path)

    def _handshakes(self) -> Iterator[Row]:
        for (endpoint, outcome, reason), count in list(self.figures.handshakes.items()):
            attributes: Attributes = {"endpoint": endpoint, "outcome": outcome}
            if reason:
                attributes["reason"] = reason
            yield attributes, count

    def _messages(self) -> Iterator[Row]:
        for endpoint, traffic in list(self.figures.traffic.items()):
            if traffic.types:  # a message-level endpoint: what came in, by type
                typed = 0
                for kind, counted in list(traffic.types.items()):
                    if counted.received:
                        typed += counted.received
                        yield {"endpoint": endpoint, "direction": "in", "message_type": kind}, counted.received
                rest = traffic.received - typed  # undeclared types, and frames that are no message
                yield {"endpoint": endpoint, "direction": "in", "message_type": UNKNOWN_TYPE}, max(rest, 0)
            else:
                yield {"endpoint": endpoint, "direction": "in"}, traffic.received
            yield {"endpoint": endpoint, "direction": "out"}, traffic.sent

    def _message_size(self) -> Iterator[Row]:
        for endpoint, traffic in list(self.figures.traffic.items()):
            yield {"endpoint": endpoint, "direction": "in"}, traffic.received_bytes
            yield {"endpoint": endpoint, "direction": "out"}, traffic.sent_bytes

    def _message_duration(self) -> Iterator[Row]:
        for endpoint, traffic in list(self.figures.traffic.items()):
            if not traffic.types:
                continue
            for kind, counted in [*traffic.types.items(), (UNKNOWN_TYPE, traffic.unknown)]:
                if counted.received:
                    yield {"endpoint": endpoint, "message_type": kind}, counted.seconds

    def _closes(self) -> Iterator[Row]:
        for (endpoint, code, initiator), count in list(self.figures.closes.items()):
            yield {"endpoint": endpoint, "code": code, "initiator": initiator}, count

    def _send_queue_dropped(self) -> Iterator[Row]:
        for endpoint, traffic in list(self.figures.traffic.items()):
            for policy, count in list(traffic.dropped.items()):
                yield {"endpoint": endpoint, "policy": policy}, count

    def _slow_client_closes(self) -> Iterator[Row]:
        for (endpoint, limit), count in list(self.figures.slow_clients.items()):
            yield {"endpoint": endpoint, "limit": limit}, count

    def _hub(self, figure: str) -> Iterator[Row]:
        totals: dict[str, int] = {}
        for hub in self.hubs():
            source: object = hub.backend if figure in ("outages", "reconnections", "unheard_rooms") else hub
            value = getattr(source, figure, None)
            if isinstance(value, int):
                backend = _backend(hub)
                totals[backend] = totals.get(backend, 0) + value
        for backend, value in totals.items():
            yield {"backend": backend}, value

    def _hub_publications(self) -> Iterator[Row]:
        return self._hub("publications")

    def _hub_deliveries(self) -> Iterator[Row]:
        return self._hub("deliveries")

    def _hub_outages(self) -> Iterator[Row]:
        return self._hub("outages")

    def _hub_reconnections(self) -> Iterator[Row]:
        return self._hub("reconnections")

    def _hub_unheard_rooms(self) -> Iterator[Row]:
        return self._hub("unheard_rooms")

    def _hub_replays(self) -> Iterator[Row]:
        return self._hub("replays")

    def _hub_resyncs(self) -> Iterator[Row]:
        return self._hub("resyncs")
