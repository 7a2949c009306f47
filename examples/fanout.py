"""A fan-out group for the examples: every member gets every published message, in order.

Publishing queues each message on every member's own bounded outgoing queue
with ``session.post`` and never waits: a member too slow to keep up is closed
by its session's overflow policy (1013 with ``overflow="close"``), a vanished
one is forgotten, and the others go on receiving.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pyfly_ws import WebSocketSession


class FanOut:
    """Members receive every published message, in publish order."""

    def __init__(self) -> None:
        self._members: set[WebSocketSession] = set()

    def __len__(self) -> int:
        return len(self._members)

    @asynccontextmanager
    async def member(self, session: WebSocketSession) -> AsyncIterator[None]:
        """Keep ``session`` in the group for the duration of the ``async with`` block."""
        self._members.add(session)
        try:
            yield
        finally:
            self._members.discard(session)

    def publish(self, message: Any) -> None:
        """Queue ``message`` (str, bytes, or JSON-ready data) for every member; never waits."""
        data = message if isinstance(message, str | bytes) else json.dumps(message, separators=(",", ":"))
        for session in list(self._members):
            if not session.post(data):  # closed, or too slow and being closed with 1013
                self._members.discard(session)
