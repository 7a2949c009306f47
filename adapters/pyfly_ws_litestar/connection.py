"""``LitestarConnection``: the :class:`~pyfly_ws.connection.Connection` over a native Litestar ``WebSocket``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, cast

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect as LitestarDisconnect

from pyfly_ws.asgi import ASGIConnection
from pyfly_ws.connection import Handshake

__all__ = ["LitestarConnection"]


class LitestarConnection(ASGIConnection):
    """One Litestar ``WebSocket``, spoken to through its raw ASGI ``receive`` and ``send``.

    The socket's own helpers decode and re-encode every message and answer a
    vanished peer with Litestar's exceptions; this class reads and writes the
    ASGI events directly (as the reference :class:`~pyfly_ws.asgi.ASGIConnection`
    does), so a message costs one call each way, and reports the end of the
    conversation as :class:`pyfly_ws.WebSocketDisconnect` only.
    """

    __slots__ = ("socket",)

    peer_gone_errors: ClassVar[tuple[type[Exception], ...]] = (OSError, LitestarDisconnect)
    """The server's ``OSError``, and the exception Litestar's wrappers raise once they saw a disconnect."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        # Litestar types the ASGI callables with its own TypedDicts; they are plain ASGI underneath.
        super().__init__(cast(Any, socket.scope), cast(Any, socket.receive), cast(Any, socket.send))
        self.handshake = _handshake(socket.scope)
        self.socket = socket
        """The native Litestar socket, for code that needs Litestar's own API (``socket.app``, ``socket.user``)."""


def _handshake(scope: Any) -> Handshake:
    """The handshake facts, with the root path that Litestar's router strips from ``scope["path"]`` put back."""
    handshake = Handshake.from_scope(scope)
    root_path = scope.get("root_path") or ""
    if root_path and not handshake.path.startswith(root_path):
        return replace(handshake, path=root_path.rstrip("/") + handshake.path)
    return handshake
