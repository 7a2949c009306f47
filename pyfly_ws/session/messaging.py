"""What a session needs of a message-level endpoint to push and ask: declared here, provided by the dispatcher.

A session of a message-level endpoint has a :class:`Messenger` attached
(:func:`~pyfly_ws.session.session.attach_messenger`); :meth:`~pyfly_ws.WebSocketSession.emit` and
:meth:`~pyfly_ws.WebSocketSession.request` go through it. Sessions of raw
endpoints have none, and pay nothing for it: the slot is never set.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["DEFAULT_REQUEST_TIMEOUT", "Messenger"]

DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds ``session.request`` waits for the client's reply by default."""


class Messenger(Protocol):
    """Pushes and server requests in the endpoint's wire format."""

    async def emit(self, type: str, data: Any) -> None:
        """Send the push ``{"type": type, "data": data}``."""
        ...

    async def request(self, type: str, data: Any, timeout: float) -> Any:  # noqa: ASYNC109
        """Send a request with a fresh id and return the data of the client's reply."""
        ...
