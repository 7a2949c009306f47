"""The contract between the core and an adapter, for one WebSocket connection.

An adapter wraps its framework's socket in a :class:`Connection`; the core's
:class:`~pyfly_ws.WebSocketSession` implements the whole public API on top of
it, so every adapter behaves the same. The reference implementation over plain
ASGI is :class:`pyfly_ws.asgi.ASGIConnection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..asgi_types import Receive, Send
from ..exceptions import WebSocketDisconnect

__all__ = ["Connection", "Denying", "DirectEvents", "Handshake", "RawHeaders", "WritesNow"]

RawHeaders = Sequence[tuple[bytes, bytes]]
"""Header pairs as they travel in ASGI: lower-case names, raw bytes."""


@dataclass(slots=True)
class Handshake:
    """The facts of the opening handshake, as the client sent them: read them, do not change them.

    Not a frozen dataclass: one is built for every connection, and a frozen
    one costs three times as much to build. ``dataclasses.replace`` makes a changed copy.
    """

    path: str
    """The request path, percent-decoded, including any root path the app is mounted under."""
    query_string: bytes
    """The raw query string, without the ``?``."""
    headers: RawHeaders
    """The handshake headers."""
    client: tuple[str, int] | None
    """The peer's ``(host, port)``, when the server knows it."""
    subprotocols: tuple[str, ...]
    """The subprotocols the client offered, in its order of preference."""

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> Handshake:
        """Read the facts from an ASGI ``websocket`` scope."""
        client = scope.get("client")
        if client and (type(client) is not tuple or len(client) != 2):  # a list, from some servers
            client = (client[0], client[1])
        offered = scope.get("subprotocols")
        # The fields set here rather than through __init__: one frame fewer, once per connection.
        handshake = _new(cls)
        handshake.path = scope.get("path", "/")
        handshake.query_string = scope.get("query_string", b"")
        handshake.headers = scope.get("headers", ())
        handshake.client = client or None
        handshake.subprotocols = tuple(offered) if offered else ()
        return handshake


_new = object.__new__


@runtime_checkable
class Connection(Protocol):
    """One WebSocket connection, as an adapter presents it to the core.

    The core calls these members in a valid order only (it keeps the state
    machine), so an implementation translates and need not check state.
    """

    @property
    def handshake(self) -> Handshake:
        """The facts of the opening handshake."""
        ...

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake, choosing ``subprotocol`` and adding ``headers`` to the response.

        Raises :class:`~pyfly_ws.WebSocketDisconnect` if the client left before it.
        """
        ...

    async def receive(self) -> str | bytes:
        """Wait for the next message: ``str`` for a text frame, ``bytes`` for a binary one.

        Raises :class:`~pyfly_ws.WebSocketDisconnect` (with the peer's close
        code and reason) once the peer is gone, including when the framework
        signals it by cancelling the handler.
        """
        ...

    async def send(self, data: str | bytes) -> None:
        """Send one message: a text frame for ``str``, a binary frame for ``bytes``.

        Raises :class:`~pyfly_ws.WebSocketDisconnect` if the peer is known to be
        gone. Some servers (hypercorn) discard messages sent after the peer left
        without an error; the disconnect then surfaces on the next ``receive``.
        """
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason``; before accept, refuse the handshake (HTTP 403).

        Never raises because the peer is already gone.
        """
        ...


@runtime_checkable
class Denying(Connection, Protocol):
    """A connection that can refuse a handshake with an HTTP status of its choice (optional).

    The core refuses with :meth:`deny` where the connection is one (checked
    with ``isinstance``), and with :meth:`Connection.close` before accept (HTTP
    403) where it is not.
    """

    async def deny(self, status: int, reason: str) -> None:
        """Refuse the handshake with HTTP ``status`` and ``reason`` as the body, where the server can.

        A server without the ASGI denial extension gets a close before accept (403).
        """
        ...


@runtime_checkable
class DirectEvents(Connection, Protocol):
    """A connection whose ASGI events the session reads and writes itself, one call less per message (optional).

    The reference :class:`~pyfly_ws.asgi.ASGIConnection` is one. The session
    uses the members below instead of :meth:`receive` and :meth:`send` when the
    connection's class is a ``DirectEvents`` and says ``direct_events = True``
    (decided once per class); every other connection is spoken to through the
    :class:`Connection` methods alone.
    """

    direct_events: ClassVar[bool]
    """Whether the session may use the members below instead of ``receive`` and ``send``."""
    peer_gone_errors: ClassVar[tuple[type[Exception], ...]]
    """The exceptions by which the framework reports a vanished peer."""
    asgi_receive: Receive
    """The ASGI ``receive`` callable."""
    asgi_send: Send
    """The ASGI ``send`` callable."""

    def message_of(self, event: Mapping[str, Any]) -> str | bytes:
        """The message of a ``websocket.receive`` event; raises ``WebSocketDisconnect`` on a disconnect."""
        ...

    def gone_with(self, event: Mapping[str, Any]) -> tuple[int, str]:
        """Remember the ``websocket.disconnect`` ``event``: the peer's close code and reason."""
        ...

    def gone_error(self) -> WebSocketDisconnect:
        """Remember that the peer is gone without a close frame (1006), and the error that says so."""
        ...


@runtime_checkable
class WritesNow(Connection, Protocol):
    """A connection that can hand a message to its socket without waiting (optional).

    When nothing is being written or queued, the session calls :meth:`send_now`
    instead of awaiting :meth:`Connection.send`: one coroutine fewer per
    message. Decided once per class, with ``isinstance``. The native
    transport's connection is one; an ASGI connection cannot be (an ASGI
    ``send`` is a coroutine).
    """

    def send_now(self, data: str | bytes) -> bool:
        """Write ``data`` now if the socket takes it without waiting; ``False``, with nothing written, if it cannot.

        On ``False`` the session sends ``data`` through :meth:`Connection.send`,
        which waits, or raises :class:`~pyfly_ws.WebSocketDisconnect` if the
        peer is gone; ``send_now`` itself never raises for a vanished peer.
        """
        ...
