"""``WebSocketHandler``: the optional lifecycle hooks a controller may define."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..mapping.messages import Message
    from .session import WebSocketSession

__all__ = ["WebSocketHandler"]


@runtime_checkable
class WebSocketHandler(Protocol):
    """Lifecycle hooks of a WebSocket controller; each is optional and may be sync or async.

    ``on_disconnect`` is called after every accepted session ends, however it
    ends, for method endpoints and message-level endpoints alike. On a
    message-level endpoint (``@websocket_mapping`` on the class) pyfly-ws also
    calls ``on_connect`` before the first message and ``on_message`` for each
    message no ``@message_mapping`` takes.
    """

    async def on_connect(self, session: WebSocketSession) -> None:
        """Called while the handshake waits; ``session.accept()`` here, or return and the session is accepted."""

    async def on_message(self, session: WebSocketSession, message: Message) -> object:
        """Called for a message of a type no ``@message_mapping`` takes; returns the reply's data."""

    async def on_disconnect(self, session: WebSocketSession) -> None:
        """Called by pyfly-ws once an accepted session has ended, whatever ended it."""
