"""``Policy``: the rules of an endpoint (authenticator, guards, origins, limits), set per application, controller and
endpoint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError
from .auth import Authenticator
from .guards import Guard
from .limits import DEFAULT_LIMITS, Limits

__all__ = ["Policy", "check_authenticator", "websocket_policy"]


@dataclass(frozen=True)
class Policy:
    """Guards (all must pass, application's first); the authenticator, allowed origins and limits (the most
    specific level wins)."""

    guards: tuple[Guard, ...] = ()
    """Run in order before accept: the application's, then the controller's, then the endpoint's."""
    allowed_origins: tuple[str, ...] | None = None
    """Browser origins allowed besides the server's own; ``("*",)`` allows any; ``None`` inherits."""
    limits: Limits = DEFAULT_LIMITS
    """Message size, rate, timeouts and the outgoing queue; fields not set inherit."""
    authenticator: Authenticator | None = None
    """Who the client is, read and verified before the guards run (``None`` inherits; none at all: anonymous)."""

    @classmethod
    def of(
        cls,
        guards: Iterable[Guard] | None = None,
        allowed_origins: Iterable[str] | None = None,
        limits: Limits | None = None,
        authenticator: Authenticator | None = None,
    ) -> Policy:
        """A policy from user input, checked: guards must be callable, origins strings, limits a ``Limits``."""
        guard_list = tuple(guards or ())
        for guard in guard_list:
            if not callable(guard):
                raise TypeError(f"a guard must be callable, got {guard!r}")
        if isinstance(allowed_origins, str):
            raise TypeError("allowed_origins is a list of origins, not one string")
        origins = None if allowed_origins is None else tuple(_origin(o) for o in allowed_origins)
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be a pyfly_ws.Limits, got {limits!r}")
        if authenticator is not None and not isinstance(authenticator, Authenticator):
            raise TypeError(
                f"authenticator must be a pyfly_ws.Authenticator (HeaderToken, CookieToken...), got {authenticator!r}"
            )
        return cls(guard_list, origins, limits or Limits(), authenticator)

    def then(self, inner: Policy) -> Policy:
        """This (outer) policy refined by ``inner``: guards add up; inner origins, limits and authenticator replace
        outer ones."""
        origins = self.allowed_origins if inner.allowed_origins is None else inner.allowed_origins
        authenticator = self.authenticator if inner.authenticator is None else inner.authenticator
        return Policy(self.guards + inner.guards, origins, self.limits.then(inner.limits), authenticator)


def check_authenticator(where: str, policy: Policy) -> None:
    """Refuse to serve ``where`` with credentials the browser sends by itself (a cookie) to any origin."""
    authenticator = policy.authenticator
    if authenticator is not None and authenticator.ambient and "*" in (policy.allowed_origins or ()):
        raise ConfigurationError(
            f"{where}: {type(authenticator).__name__} reads credentials every page's WebSocket sends, and the "
            'endpoint allows every origin (allowed_origins=["*"]): any site could connect as your users. '
            "List the origins allowed, or leave allowed_origins out (the server's own origin only)"
        )


def _origin(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"an allowed origin is a non-empty string such as 'https://app.example', got {value!r}")
    return value.rstrip("/").lower()


def websocket_policy(
    *,
    guards: Iterable[Guard] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    authenticator: Authenticator | None = None,
) -> Any:
    """Class decorator: the authenticator, guards, allowed origins and limits for every endpoint of a controller."""
    policy = Policy.of(guards, allowed_origins, limits, authenticator)

    def decorate(cls: type) -> type:
        if not isinstance(cls, type):
            raise TypeError("@websocket_policy decorates a controller class")
        cls.__pyfly_ws_policy__ = policy  # type: ignore[attr-defined]
        return cls

    return decorate
