"""``Credentials``: a session's principal, and what keeps it signed in (its authenticator, the clock).

The lifecycle makes one for each session of an endpoint with an
authenticator. The principal comes with the handshake, or with the first
message for a :class:`~pyfly_ws.auth.MessageToken` (until then it is
*pending*); a refresh replaces it with one of the same identity. The
registry's timekeeper reads :attr:`Credentials.notice_at` and the principal's
``expires_at`` to warn the session and, past it, to close it.
"""

from __future__ import annotations

from ..clock import Clock
from ..mapping.auth import Authenticator, InvalidToken, Principal
from ..mapping.guards import Reject

__all__ = ["EXPIRED_CLOSE", "NOTICE", "Credentials", "verified"]

NOTICE = 60.0
"""Seconds before its token expires that a session is warned (at most half the time it was given)."""
EXPIRED_CLOSE = 3000
"""The close code of a session whose token expired without a refresh (IANA's ``Unauthorized``)."""


class Credentials:
    """Who one session speaks for, and when it must next hear about it."""

    __slots__ = ("authenticator", "clock", "principal", "notice_at", "warned")

    def __init__(self, authenticator: Authenticator, clock: Clock, principal: Principal | None) -> None:
        self.authenticator = authenticator
        self.clock = clock
        self.principal = principal
        """``None`` while pending (a first-message token not yet verified)."""
        self.notice_at: float | None = None
        """When (seconds since the epoch) the session is warned that its token expires, if it does."""
        self.warned = False
        if principal is not None:
            self.signed_in(principal)

    @property
    def pending(self) -> bool:
        """Whether the token is still to come, in the first message."""
        return self.principal is None

    def signed_in(self, principal: Principal) -> None:
        """Take ``principal`` (at sign-in, or from a refresh): a new expiry, a new warning."""
        self.principal = principal
        self.warned = False
        expires = principal.expires_at
        if expires is None:
            self.notice_at = None
        else:
            now = self.clock.time()
            self.notice_at = expires - min(NOTICE, max(0.0, expires - now) / 2)

    async def refresh(self, token: str) -> Principal:
        """Verify ``token`` with the session's authenticator and take its principal; the identity may not change.

        Raises :class:`~pyfly_ws.InvalidToken` for a bad or expired token and
        :class:`~pyfly_ws.Reject` (403) for another identity; the session keeps its principal either way.
        """
        if not isinstance(token, str) or not token:
            raise InvalidToken("no token")
        principal = await verified(self.authenticator, token, self.clock)
        if self.principal is not None and principal.identity != self.principal.identity:
            raise Reject(403, "a refresh may not change the identity")
        self.signed_in(principal)
        return principal


async def verified(authenticator: Authenticator, token: str, clock: Clock) -> Principal:
    """The principal of ``token``, not yet expired; a refusal's reason never holds the token."""
    try:
        principal = await authenticator.verify(token)
    except Reject as refusal:
        if token in refusal.reason:
            raise Reject(refusal.status, refusal.reason.replace(token, "[redacted]")) from None
        raise
    if principal.expires_at is not None and principal.expires_at <= clock.time():
        raise InvalidToken("token expired")
    return principal
