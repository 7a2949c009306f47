"""``StarletteConnection``: the :class:`~pyfly_ws.Connection` contract over Starlette's ``WebSocket``."""

from __future__ import annotations

from starlette.types import Receive, Send
from starlette.websockets import WebSocket, WebSocketState
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from pyfly_ws import CloseCode, Handshake, WebSocketDisconnect
from pyfly_ws.connection import RawHeaders

__all__ = ["StarletteConnection"]

_ABNORMAL = int(CloseCode.ABNORMAL)
_NO_STATUS = int(CloseCode.NO_STATUS)


class StarletteConnection:
    """One Starlette (or FastAPI) ``WebSocket``, presented to the pyfly-ws core.

    The handshake and the close go through the native socket, so Starlette
    knows the socket was accepted and closed. Messages go through the ASGI
    ``receive`` and ``send`` when the route hands them over (the routes of this
    package do: one call each way, as in a hand-written endpoint), else through
    the socket's own. Whatever way the framework or the server reports a
    vanished peer (an ``OSError`` from the server, Starlette's
    ``WebSocketDisconnect``, or the ``RuntimeError`` Starlette raises on a
    disconnected socket) becomes :class:`pyfly_ws.WebSocketDisconnect`.
    """

    __slots__ = ("handshake", "websocket", "_receive", "_send", "_gone")

    handshake: Handshake
    """The facts of the opening handshake, read once from the ASGI scope."""
    websocket: WebSocket
    """The native Starlette socket, for code that needs the framework (e.g. ``websocket.app``)."""

    def __init__(self, websocket: WebSocket, receive: Receive | None = None, send: Send | None = None) -> None:
        self.handshake = Handshake.from_scope(websocket.scope)
        self.websocket = websocket
        self._receive = receive or websocket.receive
        self._send = send or websocket.send
        self._gone: tuple[int, str] | None = None  # (code, reason) once the peer is known to be gone

    def __repr__(self) -> str:
        return f"<StarletteConnection {self.handshake.path} {'gone' if self._gone else 'open'}>"

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake with ``subprotocol`` and the extra raw ``headers``."""
        try:
            await self.websocket.accept(subprotocol, headers)
        except (OSError, StarletteDisconnect) as exc:
            raise self._lost(_ABNORMAL, "") from exc

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary; raises once the peer is gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        message = await self._receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                return text  # type: ignore[no-any-return]
            return message.get("bytes") or b""
        # Starlette lets only "websocket.receive" and "websocket.disconnect" through.
        raise self._lost(message.get("code", _NO_STATUS), message.get("reason") or "")

    async def send(self, data: str | bytes) -> None:
        """Send a text frame for ``str``, a binary frame for ``bytes``; raises if the peer is gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        try:
            if type(data) is str:
                await self._send({"type": "websocket.send", "text": data})
            else:
                await self._send({"type": "websocket.send", "bytes": data})
        except StarletteDisconnect as exc:
            raise self._lost(exc.code or _ABNORMAL, exc.reason or "") from exc
        except OSError as exc:  # recent Starlette converts this itself; kept for older releases
            raise self._lost(_ABNORMAL, "") from exc
        except RuntimeError as exc:
            if self.websocket.application_state is not WebSocketState.DISCONNECTED:
                raise
            raise self._lost(_ABNORMAL, "the WebSocket was already closed") from exc

    async def deny(self, status: int, reason: str) -> None:
        """Refuse the handshake with an HTTP ``status`` where the server supports denial responses, else 403."""
        if "websocket.http.response" not in (self.websocket.scope.get("extensions") or {}):
            await self.close(1008, "")
            return
        body = reason.encode("utf-8")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        try:
            await self.websocket.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await self.websocket.send({"type": "websocket.http.response.body", "body": body})
        except (OSError, StarletteDisconnect) as exc:
            raise self._lost(_ABNORMAL, "") from exc

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason`` (before accept: refuse, HTTP 403); quiet if the peer is gone."""
        if self._gone is not None or self.websocket.application_state is WebSocketState.DISCONNECTED:
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
        except (OSError, StarletteDisconnect):
            self._gone = (_ABNORMAL, "")

    def _lost(self, code: int, reason: str) -> WebSocketDisconnect:
        """Remember that the peer is gone, and the error that says so."""
        self._gone = (int(code), reason)
        return WebSocketDisconnect(code, reason)
