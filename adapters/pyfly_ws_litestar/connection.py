"""``LitestarConnection``: the :class:`~pyfly_ws.connection.Connection` over a native Litestar ``WebSocket``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect as LitestarDisconnect

from pyfly_ws.close_codes import CloseCode
from pyfly_ws.connection import Handshake, RawHeaders
from pyfly_ws.exceptions import WebSocketDisconnect

__all__ = ["LitestarConnection"]


class LitestarConnection:
    """One Litestar ``WebSocket``, spoken to through its raw ASGI ``receive`` and ``send``.

    The socket's own helpers decode and re-encode every message and answer a
    vanished peer with Litestar's exceptions; this class reads and writes the
    ASGI events directly, so a message costs one call each way, and reports the
    end of the conversation as :class:`pyfly_ws.WebSocketDisconnect` only.
    """

    __slots__ = ("socket", "handshake", "_receive", "_send", "_gone")

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self.socket = socket
        """The native Litestar socket, for code that needs Litestar's own API (``socket.app``, ``socket.user``)."""
        self.handshake = _handshake(socket.scope)
        self._receive = socket.receive
        self._send = socket.send
        self._gone: WebSocketDisconnect | None = None

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake with ``subprotocol`` and extra raw ``headers``."""
        await self._await_connect()
        await self._send_or_gone({"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers)})

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary; raises ``WebSocketDisconnect`` once gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(self._gone.code, self._gone.reason)
        try:
            message = await self._receive()
        except LitestarDisconnect as exc:  # Litestar saw the disconnect before we did
            self._gone = WebSocketDisconnect(CloseCode.ABNORMAL, "")
            raise self._gone from exc
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                return text
            return message.get("bytes") or b""
        if message["type"] == "websocket.disconnect":
            raise self._disconnected(message)
        raise RuntimeError(f"unexpected ASGI message {message['type']!r} on a WebSocket")

    async def send(self, data: str | bytes) -> None:
        """Send a text frame for ``str``, a binary frame for ``bytes``; raises ``WebSocketDisconnect`` once gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(self._gone.code, self._gone.reason)
        if type(data) is str:
            await self._send_or_gone({"type": "websocket.send", "text": data})
        else:
            await self._send_or_gone({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason``; before accept the client gets HTTP 403. Quiet if the peer is gone."""
        if self._gone is not None:
            return
        try:
            await self._await_connect()
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except (OSError, LitestarDisconnect, WebSocketDisconnect):
            pass

    async def _await_connect(self) -> None:
        """Read the ``websocket.connect`` event that opens every ASGI WebSocket, once."""
        if self.socket.connection_state != "init":
            return
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            raise self._disconnected(message)

    def _disconnected(self, message: Any) -> WebSocketDisconnect:
        self._gone = WebSocketDisconnect(message.get("code", CloseCode.NO_STATUS), message.get("reason") or "")
        return self._gone

    async def _send_or_gone(self, message: Any) -> None:
        try:
            await self._send(message)
        except (OSError, LitestarDisconnect) as exc:
            # ASGI servers raise an OSError subclass once the client is gone;
            # Litestar's send wrapper raises its own exception once it saw a disconnect.
            self._gone = WebSocketDisconnect(CloseCode.ABNORMAL, "")
            raise self._gone from exc


def _handshake(scope: Any) -> Handshake:
    """The handshake facts, with the root path that Litestar's router strips from ``scope["path"]`` put back."""
    handshake = Handshake.from_scope(scope)
    root_path = scope.get("root_path") or ""
    if root_path and not handshake.path.startswith(root_path):
        return replace(handshake, path=root_path.rstrip("/") + handshake.path)
    return handshake
