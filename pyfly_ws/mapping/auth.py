"""The authentication contract: who is on the other end (:class:`Principal`), and where their token comes from.

An :class:`Authenticator` is declared like a guard, per endpoint, controller or
application (``authenticator=``; the most specific one wins). It reads a
token (from the handshake, or from the first message) and hands it to its
``verify`` callable, which returns a :class:`Principal` or raises
:class:`InvalidToken` (HTTP 401) or :class:`~pyfly_ws.Reject` (HTTP 403, say).
The lifecycle runs it before the guards, so guards see
:attr:`HandshakeView.principal <pyfly_ws.HandshakeView.principal>`, and keeps
the principal on the session for as long as it lives: ``session.principal``.
The ready-made authenticators live in :mod:`pyfly_ws.auth`; subclass this
one to read a token from anywhere else.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .guards import Reject
from .principal import Principal

if TYPE_CHECKING:
    from .guards import HandshakeView

__all__ = ["Authenticator", "InvalidToken", "Principal", "Verify"]


class InvalidToken(Reject):
    """Raised by a verifier for missing, malformed, expired or wrongly signed credentials: HTTP 401.

    The reason is logged and sent as the denial's body where the server can
    send one: never put the token in it (the lifecycle blanks it out if you do).
    """

    def __init__(self, reason: str = "invalid credentials") -> None:
        super().__init__(401, reason)


Verify = Callable[[str], "Principal | Awaitable[Principal]"]
"""Checks a token: returns its :class:`Principal`, or raises :class:`InvalidToken` or :class:`~pyfly_ws.Reject`."""


class Authenticator:
    """Where an endpoint's token comes from, and what verifies it (the base of every authenticator).

    A subclass overrides :meth:`token` to read the handshake, or sets
    :attr:`first_message` to read the token from the first message instead.
    """

    first_message: float | None = None
    """Seconds a client has, once accepted, to send its token as its first message; ``None``: it comes with the
    handshake (:meth:`token`)."""
    ambient: bool = False
    """Whether the browser sends the credentials by itself (a cookie): the endpoint must then not allow every
    origin, or any page could connect as the user."""
    secrets: tuple[str, ...] = ()
    """Query parameters that carry a secret: blanked out of log lines."""

    def __init__(self, verify: Verify) -> None:
        if not callable(verify):
            raise TypeError(f"verify is a callable that takes a token and returns a Principal, got {verify!r}")
        self._verify = verify

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_name(self._verify)})"

    def token(self, view: HandshakeView) -> str | None:
        """The token the handshake carries, ``None`` when it carries none (HTTP 401). May raise :class:`Reject`."""
        return None

    def subprotocol(self, offered: tuple[str, ...]) -> str | None:
        """The subprotocol to accept with when the handler names none (``None``: none)."""
        return None

    def hides(self, subprotocol: str) -> bool:
        """Whether ``subprotocol`` carries the token, so that the server must never echo it."""
        return False

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` stands for, from the ``verify`` callable (sync or async)."""
        result = self._verify(token)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, Principal):
            raise TypeError(f"{_name(self._verify)} returned {type(result).__name__}, not a pyfly_ws.Principal")
        return result


def _name(func: object) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
