"""``Principal``: who a session speaks for, as its authenticator verified."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Principal"]

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a session speaks for: an identity, what the token claims, and when the token stops being valid."""

    identity: str
    """The application's name for the user (a JWT's ``sub``, say): what ``disconnect_user`` and presence use."""
    claims: Mapping[str, Any] = field(default_factory=lambda: _NO_CLAIMS)
    """Everything the token says, as verified (read-only)."""
    expires_at: float | None = None
    """Seconds since the epoch after which the session must present a fresh token; ``None``: never."""

    def __post_init__(self) -> None:
        if not isinstance(self.identity, str) or not self.identity:
            raise TypeError(f"a principal's identity is a non-empty string, got {self.identity!r}")
        if not isinstance(self.claims, Mapping):
            raise TypeError(f"a principal's claims are a mapping, got {self.claims!r}")
        if self.claims is not _NO_CLAIMS:
            object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))
        expires = self.expires_at
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float) or not math.isfinite(expires)
        ):
            raise TypeError(f"expires_at is seconds since the epoch or None, got {expires!r}")

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes the claims grant: ``scope`` (space-separated, OAuth 2.0) or ``scp`` / ``scopes`` (a list)."""
        found: set[str] = set()
        for name in ("scope", "scp", "scopes"):
            value = self.claims.get(name)
            if isinstance(value, str):
                found.update(value.split())
            elif isinstance(value, list | tuple | set | frozenset):
                found.update(item for item in value if isinstance(item, str))
        return frozenset(found)
