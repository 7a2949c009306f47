"""``StarletteConnection``: the :class:`~pyfly_ws.Connection` contract over Starlette's ``WebSocket``."""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from pyfly_ws.adapter import ASGIConnection, RawHeaders

__all__ = ["StarletteConnection"]


class StarletteConnection(ASGIConnection):
    """One Starlette (or FastAPI) ``WebSocket``, presented to the pyfly-ws core.

    Made from a native ``WebSocket``, the handshake and the close go through
    it, so that socket knows it was accepted and closed. Messages are ASGI
    events read and written as the reference
    :class:`~pyfly_ws.asgi.ASGIConnection` does, through the ASGI ``receive``
    and ``send`` when they are handed over, else through the socket's own.
    Made with :meth:`from_asgi` (as this package's routes do), it speaks ASGI
    for the handshake and the close too, and no ``WebSocket`` is made unless
    :attr:`websocket` is read: one object and three calls fewer per
    connection. Whatever way the framework or the server reports a vanished
    peer (an ``OSError`` from the server, Starlette's ``WebSocketDisconnect``,
    or the ``RuntimeError`` Starlette raises on a socket closed already)
    becomes :class:`pyfly_ws.WebSocketDisconnect`.
    """

    __slots__ = ("_websocket", "_application_state")

    peer_gone_errors: ClassVar[tuple[type[Exception], ...]] = (OSError, StarletteDisconnect)
    """The server's ``OSError``, and the exception Starlette's socket raises for a vanished peer."""

    def __init__(self, websocket: WebSocket, receive: Receive | None = None, send: Send | None = None) -> None:
        self._websocket: WebSocket | None = websocket
        self._application_state = WebSocketState.CONNECTING  # kept only while there is no socket
        super().__init__(websocket.scope, receive or websocket.receive, send or self._send_through_socket)

    @classmethod
    def from_asgi(cls, scope: Scope, receive: Receive, send: Send) -> StarletteConnection:
        """A connection over a route's ASGI ``scope``, ``receive`` and ``send``, without a native socket."""
        connection = cls.__new__(cls)
        connection._websocket = None
        connection._application_state = WebSocketState.CONNECTING
        ASGIConnection.__init__(connection, scope, receive, send)
        return connection

    @property
    def websocket(self) -> WebSocket:
        """The native Starlette socket, for code that needs the framework (e.g. ``websocket.app``).

        For a connection made with :meth:`from_asgi`, it is made when first
        read, over the same ``receive`` and ``send``, in the state the
        connection is in; from then on the handshake and the close go through it.
        """
        websocket = self._websocket
        if websocket is None:
            websocket = self._websocket = WebSocket(self.scope, self.asgi_receive, self.asgi_send)
            state = websocket.application_state = self._application_state
            if self.gone is not None:
                websocket.client_state = WebSocketState.DISCONNECTED
            elif state is not WebSocketState.CONNECTING:  # accepted, refused or closed: the connect was read
                websocket.client_state = WebSocketState.CONNECTED
        return websocket

    def __repr__(self) -> str:
        return f"<StarletteConnection {self.handshake.path} {'gone' if self.gone else 'open'}>"

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake with ``subprotocol`` and the extra raw ``headers``."""
        if self._websocket is None:
            await ASGIConnection.accept(self, subprotocol, headers)
            self._application_state = WebSocketState.CONNECTED
            return
        try:
            await self._websocket.accept(subprotocol, headers)
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc

    async def deny(self, status: int, reason: str) -> None:
        """Refuse the handshake with an HTTP ``status`` where the server supports denial responses, else 403."""
        if self._websocket is None:
            self._application_state = WebSocketState.DISCONNECTED
            await ASGIConnection.deny(self, status, reason)
            return
        if "websocket.http.response" not in (self.websocket.scope.get("extensions") or {}):
            await self.close(1008, "")
            return
        body = reason.encode("utf-8")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        try:
            await self.websocket.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await self.websocket.send({"type": "websocket.http.response.body", "body": body})
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason`` (before accept: refuse, HTTP 403); quiet if the peer is gone."""
        if self._websocket is None:
            self._application_state = WebSocketState.DISCONNECTED
            await ASGIConnection.close(self, code, reason)
            return
        if self.gone is not None or self.websocket.application_state is WebSocketState.DISCONNECTED:
            return
        # Through the socket's own send, so Starlette's state follows; "reason" only when there is one
        # (daphne drops a close that carries a reason with a code of 1001-1014).
        message = (
            {"type": "websocket.close", "code": code, "reason": reason}
            if reason
            else {"type": "websocket.close", "code": code}
        )
        try:
            await self.websocket.send(message)
        except self.peer_gone_errors:
            self.gone_error()

    async def _send_through_socket(self, message: Any) -> None:
        """The socket's own ``send``, with the ``RuntimeError`` for a socket closed already made a lost peer."""
        try:
            await self.websocket.send(message)
        except RuntimeError as exc:
            if self.websocket.application_state is not WebSocketState.DISCONNECTED:
                raise
            raise ConnectionError("the WebSocket was already closed") from exc
