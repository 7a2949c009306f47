"""Guards and the origin check: decisions made before a handshake is accepted.

A guard is a sync or async callable that takes a :class:`HandshakeView` and
either returns (optionally a mapping merged into ``session.state``, e.g. the
authenticated user) or raises :class:`Reject`. Guards run before the
controller is resolved; a refusal never runs the handler or ``on_disconnect``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from .datastructures import Headers, QueryParams
from .exceptions import WebSocketError

__all__ = ["Guard", "HandshakeView", "Reject", "origin_allowed"]


class Reject(WebSocketError):
    """Raised by a guard to refuse the handshake with ``status`` (HTTP 403 where a server cannot say more)."""

    def __init__(self, status: int = 403, reason: str = "") -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a refusal's status is a 4xx or 5xx HTTP status, got {status}")
        self.status = status
        self.reason = reason
        super().__init__(status, reason)

    def __str__(self) -> str:
        return f"refused with HTTP {self.status}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class HandshakeView:
    """What a guard may read of the handshake; nothing here can change it."""

    path: str
    """The requested path."""
    path_params: Mapping[str, Any]
    """Path parameters, converted by type."""
    query_params: QueryParams
    """Query parameters."""
    headers: Headers
    """Handshake headers (case-insensitive)."""
    client: tuple[str, int] | None
    """The peer's address."""
    subprotocols: tuple[str, ...]
    """The subprotocols the client offered."""
    cookies: Mapping[str, str] = field(init=False)
    """Cookies from the ``Cookie`` headers (an unparsable header counts as none)."""

    def __post_init__(self) -> None:
        jar: dict[str, str] = {}
        for header in self.headers.getlist("cookie"):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue
            jar.update({name: morsel.value for name, morsel in parsed.items()})
        object.__setattr__(self, "cookies", jar)


Guard = Callable[[HandshakeView], Any | Awaitable[Any]]
"""A guard: returns (perhaps a mapping for ``session.state``) or raises :class:`Reject`."""


def origin_allowed(headers: Headers, allowed: tuple[str, ...] | None) -> bool:
    """Whether the handshake's ``Origin`` may connect.

    No ``Origin`` header (a non-browser client) is allowed. Otherwise the origin
    must name the same host and port as the ``Host`` header, or be listed in
    ``allowed`` (``"*"`` allows any origin).
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    if allowed and ("*" in allowed or origin.rstrip("/").lower() in allowed):
        return True
    host = headers.get("host", "").lower()
    parts = urlsplit(origin.lower())
    if not parts.scheme or not parts.hostname:
        return False  # "null" and other opaque origins
    default_port = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme)
    origin_host = parts.hostname if parts.port in (None, default_port) else f"{parts.hostname}:{parts.port}"
    bare_host = host.rsplit(":", 1)[0] if host.endswith((":80", ":443")) else host
    return origin_host in (host, bare_host)
