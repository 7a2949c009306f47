"""Guards and the origin check: decisions made before a handshake is accepted.

A guard is a sync or async callable that takes a :class:`HandshakeView` and
either returns (optionally a mapping merged into ``session.state``, e.g. the
authenticated user) or raises :class:`Reject`. Guards run before the
controller is resolved; a refusal never runs the handler or ``on_disconnect``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..datastructures import Headers, QueryParams
from ..exceptions import WebSocketError

if TYPE_CHECKING:
    from .principal import Principal

__all__ = ["Guard", "HandshakeView", "Reject", "origin_allowed", "origin_refusal"]


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
    principal: Principal | None = None
    """Who the endpoint's authenticator says the client is (``None`` without an authenticator)."""
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
    """Whether the handshake's ``Origin`` may connect (see :func:`origin_refusal`)."""
    return origin_refusal(headers, allowed) is None


def origin_refusal(headers: Headers, allowed: tuple[str, ...] | None) -> str | None:
    """Why the handshake's ``Origin`` may not connect, or ``None`` if it may. Never raises.

    No ``Origin`` header (a non-browser client) is allowed. Otherwise the
    origin must name the same host and port as the ``Host`` header, or be
    listed in ``allowed`` (``"*"`` allows any origin). Hosts compare without
    case or a trailing dot, IPv6 literals in any spelling (``[::1]``), and a
    port left out means the scheme's default. ``X-Forwarded-Host`` is not
    consulted: behind a proxy that rewrites ``Host``, list the public origin
    in ``allowed``. An ``Origin`` that is not ``scheme://host[:port]`` (a
    port out of range, not a number, a path) is refused as malformed.
    """
    origin = headers.get("origin")
    if origin is None:
        return None
    if allowed and ("*" in allowed or origin.rstrip("/").lower() in allowed):
        return None
    try:
        parsed = _parse_origin(origin)
    except ValueError as exc:
        return f"malformed origin: {exc}"
    if parsed is None:
        return "not allowed (an opaque origin)"
    scheme, host, port = parsed
    if allowed and _serialize(scheme, host, port) in _canonical(allowed):
        return None
    default = _DEFAULT_PORTS.get(scheme)
    served = _parse_host(headers.get("host", ""))
    if default is None or served is None or served[0] != host:
        return "not allowed"
    served_port = default if served[1] is None else served[1]
    return None if (default if port is None else port) == served_port else "not allowed"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _parse_origin(origin: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a serialized origin, ``None`` for an opaque one; ``ValueError`` if malformed."""
    text = origin.strip()
    if text.lower() == "null":
        return None
    parts = urlsplit(text)  # raises ValueError for a bad IPv6 literal
    if not parts.scheme or not parts.netloc:
        raise ValueError("expected scheme://host[:port]")
    if parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("an origin has no user, path, query or fragment")
    if not parts.hostname:
        raise ValueError("no host")
    port = parts.port  # raises ValueError for a port out of range or not a number
    return parts.scheme.lower(), _host_key(parts.hostname), port


def _parse_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a ``Host`` header (``name``, ``name:port``, ``[v6]``, ``[v6]:port``), or ``None``."""
    text = value.strip()
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:]
    else:
        name, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
        if ":" in name:
            return None  # an IPv6 address must be in brackets
    if not name or (port_text and not (port_text.isascii() and port_text.isdigit() and int(port_text) <= 65535)):
        return None
    return _host_key(name), int(port_text) if port_text else None


def _host_key(name: str) -> str:
    """A host as compared: lower case, no trailing dot, an IP address in its canonical spelling."""
    name = name.lower().removesuffix(".")
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def _serialize(scheme: str, host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{shown}:{port}"


@functools.lru_cache(maxsize=256)
def _canonical(allowed: tuple[str, ...]) -> frozenset[str]:
    """The allowed origins as :func:`_serialize` writes them (an entry that does not parse stays as written)."""
    found: set[str] = set()
    for entry in allowed:
        try:
            parsed = _parse_origin(entry)
        except ValueError:
            parsed = None
        found.add(entry if parsed is None else _serialize(*parsed))
    return frozenset(found)
