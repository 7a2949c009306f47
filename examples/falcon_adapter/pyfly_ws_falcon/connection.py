"""``FalconConnection``: the pyfly-ws ``Connection`` contract over Falcon's ASGI ``WebSocket``.

Everything goes through Falcon's public ``WebSocket`` API, so Falcon's own
state (``ws.ready``, ``ws.closed``) stays true for any middleware that reads
it. Two gaps in that API are bridged with public extension points:

- receiving "text or bytes, whichever arrives" uses ``receive_media()`` with
  pass-through media handlers (see :mod:`pyfly_ws_falcon.media`);
- Falcon reports a departed client with its close code only
  (``falcon.WebSocketDisconnected.code``), so the app built by
  :func:`pyfly_ws_falcon.create_app` records the client's ASGI
  ``websocket.disconnect`` event in a :class:`PeerClose` to recover the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from falcon import WebSocketDisconnected
from falcon.asgi import Request, WebSocket
from pyfly_ws import CloseCode, Handshake, WebSocketDisconnect
from pyfly_ws.adapter import RawHeaders

from . import media

__all__ = ["PEER_CLOSE_KEY", "FalconConnection", "PeerClose"]

PEER_CLOSE_KEY = "pyfly_ws_falcon.peer_close"
"""The scope key under which :class:`~pyfly_ws_falcon.FalconApp` puts a connection's :class:`PeerClose`."""

_ABNORMAL = int(CloseCode.ABNORMAL)
_NO_STATUS = int(CloseCode.NO_STATUS)


class PeerClose:
    """Wraps an ASGI ``receive`` and remembers the client's ``websocket.disconnect`` event."""

    __slots__ = ("_receive", "code", "reason")

    def __init__(self, receive: Any) -> None:
        self._receive = receive
        self.code: int | None = None
        """The client's close code, once it left."""
        self.reason = ""
        """The client's close reason, once it left."""

    async def receive(self) -> Mapping[str, Any]:
        event: Mapping[str, Any] = await self._receive()
        if event.get("type") == "websocket.disconnect":
            self.code = int(event.get("code", _NO_STATUS))
            self.reason = str(event.get("reason") or "")
        return event


class FalconConnection:
    """One Falcon ``WebSocket``, presented to the pyfly-ws core."""

    __slots__ = ("handshake", "request", "websocket", "_peer", "_gone")

    handshake: Handshake
    """The facts of the opening handshake, read once from the ASGI scope (``req.scope``)."""
    request: Request
    """The native Falcon request of the handshake."""
    websocket: WebSocket
    """The native Falcon socket."""

    def __init__(self, request: Request, websocket: WebSocket) -> None:
        self.handshake = Handshake.from_scope(request.scope)
        self.request = request
        self.websocket = websocket
        peer = request.scope.get(PEER_CLOSE_KEY)
        self._peer = peer if isinstance(peer, PeerClose) else None
        self._gone: tuple[int, str] | None = None  # (code, reason) once the peer is known to be gone

    def __repr__(self) -> str:
        return f"<FalconConnection {self.handshake.path} {'gone' if self._gone else 'open'}>"

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake; Falcon takes ``str`` header pairs (ASCII only)."""
        pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
        try:
            await self.websocket.accept(subprotocol, pairs or None)
        except WebSocketDisconnected as exc:
            raise self._gone_error(exc) from exc

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary; raises once the peer is gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        token = media.raw_payloads.set(True)
        try:
            message = await self.websocket.receive_media()
        except WebSocketDisconnected as exc:
            raise self._gone_error(exc) from exc
        finally:
            media.raw_payloads.reset(token)
        if not isinstance(message, media.RawMessage):
            raise RuntimeError(
                "the app's ws_options.media_handlers were replaced after pyfly_ws_falcon.add_routes(); "
                "pyfly-ws needs its pass-through wrappers (pyfly_ws_falcon.media.install) around them"
            )
        return message.data

    async def send(self, data: str | bytes) -> None:
        """Send a text frame for ``str``, a binary frame for ``bytes``; raises if the peer is gone."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        try:
            if isinstance(data, str):
                await self.websocket.send_text(data)
            else:
                await self.websocket.send_data(data)
        except WebSocketDisconnected as exc:
            raise self._gone_error(exc) from exc

    async def close(self, code: int, reason: str) -> None:
        """Close (before accept, Falcon refuses: HTTP 403); quiet if the peer is gone."""
        if self._gone is not None:
            return
        try:
            # An empty reason becomes None: Falcon then looks one up in ws_options.default_close_reasons,
            # which pyfly_ws_falcon.create_app empties so that no reason is invented.
            await self.websocket.close(code, reason or None)
        except (WebSocketDisconnected, OSError):
            self._gone = (_ABNORMAL, "")

    def _gone_error(self, exc: WebSocketDisconnected) -> WebSocketDisconnect:
        """Remember that the peer is gone, with the best code and reason known, and the error that says so."""
        if self._peer is not None and self._peer.code is not None:
            self._gone = (self._peer.code, self._peer.reason)
        elif isinstance(exc.__cause__, OSError):  # Falcon translated the server's "peer is gone" error
            self._gone = (_ABNORMAL, "")
        else:
            self._gone = (int(exc.code), "")
        return WebSocketDisconnect(*self._gone)
