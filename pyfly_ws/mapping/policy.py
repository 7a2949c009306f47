"""``Policy``: the rules of an endpoint (guards, origins, limits), set per application, controller and endpoint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .guards import Guard
from .limits import DEFAULT_LIMITS, Limits

__all__ = ["Policy", "websocket_policy"]


@dataclass(frozen=True)
class Policy:
    """Guards (all must pass, application's first), allowed origins and limits (the most specific level wins)."""

    guards: tuple[Guard, ...] = ()
    """Run in order before accept: the application's, then the controller's, then the endpoint's."""
    allowed_origins: tuple[str, ...] | None = None
    """Browser origins allowed besides the server's own; ``("*",)`` allows any; ``None`` inherits."""
    limits: Limits = DEFAULT_LIMITS
    """Message size, rate, timeouts and the outgoing queue; fields not set inherit."""

    @classmethod
    def of(
        cls,
        guards: Iterable[Guard] | None = None,
        allowed_origins: Iterable[str] | None = None,
        limits: Limits | None = None,
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
        return cls(guard_list, origins, limits or Limits())

    def then(self, inner: Policy) -> Policy:
        """This (outer) policy refined by ``inner``: guards add up, inner origins and limits replace outer ones."""
        origins = self.allowed_origins if inner.allowed_origins is None else inner.allowed_origins
        return Policy(self.guards + inner.guards, origins, self.limits.then(inner.limits))


def _origin(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"an allowed origin is a non-empty string such as 'https://app.example', got {value!r}")
    return value.rstrip("/").lower()


def websocket_policy(
    *,
    guards: Iterable[Guard] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
) -> Any:
    """Class decorator: guards, allowed origins and limits for every endpoint of a controller."""
    policy = Policy.of(guards, allowed_origins, limits)

    def decorate(cls: type) -> type:
        if not isinstance(cls, type):
            raise TypeError("@websocket_policy decorates a controller class")
        cls.__pyfly_ws_policy__ = policy  # type: ignore[attr-defined]
        return cls

    return decorate
