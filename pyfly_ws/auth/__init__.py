"""Authentication: who is on the other end, from the handshake on and for as long as the connection lives.

Declare an authenticator per endpoint, controller or application
(``authenticator=``, like guards): it reads a token and its ``verify`` callable
turns it into a :class:`~pyfly_ws.Principal`, which the session keeps as
``session.principal``. :class:`JWTVerifier` checks JSON Web Tokens (the
``jwt`` extra); any callable can verify instead.
"""

from __future__ import annotations

from ..mapping.auth import Authenticator, InvalidToken, Principal, Verify
from .jwt import JWTVerifier
from .tokens import DEFAULT_DEADLINE, CookieToken, HeaderToken, MessageToken, QueryToken, SubprotocolToken

__all__ = [
    "DEFAULT_DEADLINE",
    "Authenticator",
    "CookieToken",
    "HeaderToken",
    "InvalidToken",
    "JWTVerifier",
    "MessageToken",
    "Principal",
    "QueryToken",
    "SubprotocolToken",
    "Verify",
]
