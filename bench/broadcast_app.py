"""The broadcast benchmark's app: ``/room`` joins one room; a text ``go:N`` publishes ``N`` to it.

The hub is in memory, or on Redis when ``BENCH_REDIS_URL`` is set.
"""

from __future__ import annotations

import os

from pyfly_ws import Container, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub


@rest_controller
class RoomController:
    """Everyone in one room; ``go:N`` from anyone reaches everyone."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @websocket_mapping("/room")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await self.hub.join(session, "bench")
        await session.send_text("joined")
        async for text in session.iter_text():
            if text.startswith("go:"):
                await self.hub.publish("bench", text[3:])


_hub = Hub(os.environ.get("BENCH_REDIS_URL") or None)
_container = Container()
_container.register_instance(_hub)
_container.register(RoomController)
app = create_app(_container, services=[_hub])
