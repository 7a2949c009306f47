"""The errors the test clients raise, beside :class:`~pyfly_ws.WebSocketDisconnect`."""

from __future__ import annotations

from collections.abc import Iterable

from ..datastructures import Headers

__all__ = ["ClientDisconnected", "HandshakeRefused"]


class HandshakeRefused(Exception):
    """The server refused the WebSocket handshake.

    ``status`` is the HTTP status of the refusal: 403 when the application
    closed before accepting, 500 when it returned or raised without accepting
    (in-process), or the status of the denial response it sent. ``headers`` and
    ``body`` are that response's, empty when unknown.
    """

    status: int
    """The HTTP status of the refusal."""
    headers: Headers
    """The headers of the refusal response (empty if unknown)."""
    body: bytes
    """The body of the refusal response (``b""`` if none)."""

    def __init__(self, status: int, headers: Headers | Iterable[tuple[str, str]] = (), body: bytes = b"") -> None:
        self.status = int(status)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = bytes(body)
        super().__init__(self.status, self.headers, self.body)

    def __str__(self) -> str:
        text = f"the server refused the WebSocket handshake with HTTP {self.status}"
        if self.body:
            text += f": {self.body[:200]!r}"
        return text


class ClientDisconnected(OSError):
    """Raised in-process to an application that sends after the client is gone.

    An ``OSError``, as the ASGI specification asks of servers (uvicorn raises
    one of its own): adapters already treat it as a vanished peer.
    """
