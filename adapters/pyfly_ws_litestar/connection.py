"""``LitestarConnection``: the :class:`~pyfly_ws.Connection` over a native Litestar ``WebSocket``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, cast

from litestar import WebSocket
from litestar.connection.base import empty_receive, empty_send
from litestar.exceptions import WebSocketDisconnect as LitestarDisconnect

from pyfly_ws.adapter import ASGIConnection

__all__ = ["LitestarConnection", "PyflySocket"]


class PyflySocket(WebSocket[Any, Any, Any]):
    """Litestar's ``WebSocket``, which also keeps the server's own ``receive`` and ``send``.

    Litestar wraps both in closures that track the socket's state; the route
    handlers of this package ask Litestar for this class (``websocket_class``),
    so pyfly-ws reads and writes messages with one call each way, as a raw
    ASGI application would. The handshake and the close still reach Litestar's
    middleware and the server the same way; only ``socket.connection_state``
    does not follow the messages.
    """

    __slots__ = ("raw_events",)

    def __init__(self, scope: Any, receive: Any = empty_receive, send: Any = empty_send) -> None:
        super().__init__(scope, receive, send)
        self.raw_events: tuple[Any, Any] = (receive, send)


class LitestarConnection(ASGIConnection):
    """One Litestar ``WebSocket``, spoken to through its raw ASGI ``receive`` and ``send``.

    The socket's own helpers decode and re-encode every message and answer a
    vanished peer with Litestar's exceptions; this class reads and writes the
    ASGI events directly (as the reference :class:`~pyfly_ws.asgi.ASGIConnection`
    does), the server's own callables when the socket is a :class:`PyflySocket`,
    so a message costs one call each way, and reports the end of the
    conversation as :class:`pyfly_ws.WebSocketDisconnect` only.
    """

    __slots__ = ("socket",)

    peer_gone_errors: ClassVar[tuple[type[Exception], ...]] = (OSError, LitestarDisconnect)
    """The server's ``OSError``, and the exception Litestar's wrappers raise once they saw a disconnect."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        # Litestar types the ASGI callables with its own TypedDicts; they are plain ASGI underneath.
        events: tuple[Any, Any] = getattr(socket, "raw_events", None) or (socket.receive, socket.send)
        super().__init__(cast(Any, socket.scope), *events)
        root_path = socket.scope.get("root_path") or ""
        if root_path and not self.handshake.path.startswith(root_path):
            # Litestar's router strips the root path from scope["path"]: put it back.
            self.handshake = replace(self.handshake, path=root_path.rstrip("/") + self.handshake.path)
        self.socket = socket
        """The native Litestar socket, for code that needs Litestar's own API (``socket.app``, ``socket.user``)."""
