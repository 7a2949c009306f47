"""What runs a session beside its handler (the lifecycle's supervisor), as the session sees it.

Declared in the session layer so that the session imports nothing of the lifecycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from .tracing import SessionTrace

if TYPE_CHECKING:
    from ..mapping.auth import Principal

__all__ = ["Supervision", "log_limit", "log_refusal", "serving"]

logger = logging.getLogger("pyfly_ws")


def log_limit(name: str, code: int, reason: str, limit: str) -> None:
    """The one INFO line a session closed by a limit leaves: who, the close code, why, and which limit."""
    logger.info("%s: closing with %s: %s (limit %s)", name, code, reason, limit)


def log_refusal(name: str, status: int, reason: str) -> None:
    """The one INFO line refused credentials leave: who, the status, why (never the token)."""
    logger.info("%s: refused the credentials (%d): %s", name, status, reason)


class Supervision(Protocol):
    """What runs a session beside its handler (the lifecycle's supervisor), as the per-message path uses it."""

    @property
    def name(self) -> str:
        """The endpoint's name in logs: ``Controller.method``."""
        ...

    @property
    def trace(self) -> SessionTrace | None:
        """The session's traces, or ``None`` when the application traces nothing."""
        ...

    def accepted(self) -> None:
        """The handshake was accepted: the session's time limits start."""
        ...

    def signed_in(self, principal: Principal) -> None:
        """The session has a new principal (a first-message sign-in, a refresh): index it, watch its expiry."""
        ...

    def limit_hit(self, code: int, reason: str, limit: str) -> None:
        """A limit closes the session with ``code``: log it and make sure the handler ends."""
        ...

    def spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Start ``func(*args)`` beside the handler (the outbox's writer)."""
        ...


serving: ContextVar[Supervision | None] = ContextVar("pyfly_ws_serving", default=None)
"""The supervisor of the session whose handler runs in this task (or in the task that started this one).

That session's *own* tasks: a send from any other task (another session's
handler, a background task) never waits for this session's client (see
:meth:`~pyfly_ws.WebSocketSession.send_text`). The supervisor rather than the session: a timer
scheduled by the handler keeps a copy of the context until it is due, and a
finished supervisor holds no more than its endpoint.
"""
_serving = serving.get
