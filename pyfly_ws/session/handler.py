"""``WebSocketHandler``: the optional lifecycle hooks a controller may define."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .session import WebSocketSession

__all__ = ["WebSocketHandler"]


@runtime_checkable
class WebSocketHandler(Protocol):
    """Lifecycle hooks of a WebSocket controller.

    Only ``on_disconnect`` is called by pyfly-ws: after every accepted session
    ends, however it ends. ``on_connect`` and ``on_message`` describe a common
    shape for handlers to call themselves. Each hook may be sync or async.
    """

    async def on_connect(self, session: WebSocketSession) -> None:
        """Called by the handler while the handshake waits; call ``session.accept()`` here."""

    async def on_message(self, session: WebSocketSession, data: str) -> None:
        """Called by the handler for each text message it receives."""

    async def on_disconnect(self, session: WebSocketSession) -> None:
        """Called by pyfly-ws once an accepted session has ended, whatever ended it."""
