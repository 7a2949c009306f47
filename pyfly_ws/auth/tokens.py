"""The ready-made authenticators, one per place a token can travel.

=================== ================================ ==========================================
authenticator       where the token is               for
=================== ================================ ==========================================
``HeaderToken``     ``Authorization: Bearer <token>`` non-browser clients
``SubprotocolToken`` ``Sec-WebSocket-Protocol``        browsers: ``new WebSocket(url, ["app.v1",
                    (``bearer.<token>``)             "bearer." + token])``
``CookieToken``     a cookie                         browsers, with an origin allowlist
``QueryToken``      a query parameter (opt in)       clients that can do nothing else
``MessageToken``    the first message                clients that can do nothing else
=================== ================================ ==========================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..mapping.auth import Authenticator, Verify
from ..mapping.guards import Reject

if TYPE_CHECKING:
    from ..mapping.guards import HandshakeView

__all__ = ["DEFAULT_DEADLINE", "CookieToken", "HeaderToken", "MessageToken", "QueryToken", "SubprotocolToken"]

DEFAULT_DEADLINE = 5.0
"""Seconds a :class:`MessageToken` client has to send its token once accepted (then close 1008)."""


class HeaderToken(Authenticator):
    """The token in the ``Authorization`` header: ``Authorization: Bearer <token>`` (``scheme`` is compared
    without case)."""

    def __init__(self, verify: Verify, *, scheme: str = "Bearer") -> None:
        super().__init__(verify)
        if not isinstance(scheme, str) or not scheme or " " in scheme:
            raise ValueError(f"scheme is one word such as 'Bearer', got {scheme!r}")
        self.scheme = scheme.lower()

    def token(self, view: HandshakeView) -> str | None:
        value = view.headers.get("authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != self.scheme or not token.strip():
            return None
        return token.strip()


class SubprotocolToken(Authenticator):
    """The token as one of the offered subprotocols, ``prefix + token`` (``bearer.<token>`` by default).

    Browsers cannot set headers on a WebSocket handshake, but they can offer
    subprotocols: ``new WebSocket(url, ["app.v1", "bearer." + token])``. The
    client must offer one of ``protocols`` too (else HTTP 400): the session is
    accepted with it (the first the client offered) unless the handler names
    another, and a subprotocol carrying the token is never echoed.
    """

    def __init__(self, verify: Verify, *, protocols: Iterable[str], prefix: str = "bearer.") -> None:
        super().__init__(verify)
        if isinstance(protocols, str):
            raise TypeError("protocols is a list of subprotocols, not one string")
        self.protocols = tuple(protocols)
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix is a non-empty string such as 'bearer.', got {prefix!r}")
        self.prefix = prefix
        if not self.protocols or not all(isinstance(p, str) and p for p in self.protocols):
            raise ValueError("protocols names at least one application subprotocol, such as 'app.v1'")
        clash = [p for p in self.protocols if p.startswith(prefix)]
        if clash:
            raise ValueError(f"application subprotocols {clash} start with the token prefix {prefix!r}")

    def token(self, view: HandshakeView) -> str | None:
        if self.subprotocol(view.subprotocols) is None:
            raise Reject(400, f"offer one of the subprotocols {', '.join(self.protocols)} beside the token")
        for offered in view.subprotocols:
            if offered.startswith(self.prefix) and len(offered) > len(self.prefix):
                return offered[len(self.prefix) :]
        return None

    def subprotocol(self, offered: tuple[str, ...]) -> str | None:
        for name in offered:
            if name in self.protocols:
                return name
        return None

    def hides(self, subprotocol: str) -> bool:
        return subprotocol.startswith(self.prefix)


class CookieToken(Authenticator):
    """The token in the cookie ``name``.

    A browser sends cookies by itself, to a WebSocket opened by any page: the
    endpoint must not allow every origin (``allowed_origins=["*"]`` fails at
    start-up). The default, the server's own origin, or a list, is fine.
    """

    ambient = True

    def __init__(self, verify: Verify, *, name: str = "session") -> None:
        super().__init__(verify)
        if not isinstance(name, str) or not name:
            raise ValueError(f"name is the cookie's name, got {name!r}")
        self.name = name

    def token(self, view: HandshakeView) -> str | None:
        return view.cookies.get(self.name) or None


class QueryToken(Authenticator):
    """The token in the query parameter ``name``: opt in only, because URLs end up in proxy and server logs.

    pyfly-ws blanks the parameter out of every log line it controls (its own
    and, once the application is built, the servers' loggers: uvicorn,
    hypercorn, granian, daphne); a proxy in front of the server is yours to
    configure. Prefer a short-lived token made for this one connection.
    """

    def __init__(self, verify: Verify, *, name: str = "token") -> None:
        super().__init__(verify)
        if not isinstance(name, str) or not name:
            raise ValueError(f"name is the query parameter's name, got {name!r}")
        self.name = name
        self.secrets = (name,)

    def token(self, view: HandshakeView) -> str | None:
        return view.query_params.get(self.name) or None


class MessageToken(Authenticator):
    """The token in the first message, sent within ``deadline`` seconds of the accept (else close 1008).

    For a raw endpoint the first message is a text frame holding the token;
    for a message-level one, ``{"type": "auth", "data": {"token": "..."}}``
    (answered with a reply when it carries an id). ``await
    session.accept()`` returns once the token is verified; a message-level
    endpoint is accepted and authenticated before its ``on_connect``.
    """

    def __init__(self, verify: Verify, *, deadline: float = DEFAULT_DEADLINE) -> None:
        super().__init__(verify)
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) or not deadline > 0:
            raise ValueError(f"deadline is a number of seconds > 0, got {deadline!r}")
        self.first_message = float(deadline)
