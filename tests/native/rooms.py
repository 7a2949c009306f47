"""Rooms on a Redis hub (``HUB_REDIS_URL``) for ``pyfly-ws run tests.native.rooms --server picows --workers 2``.

``/rooms/{room}`` joins, answers ``joined PID`` (the worker serving it), then
publishes every text message to the room.
"""

from __future__ import annotations

import os

from pyfly_ws import WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub, RedisBackend

HUB = Hub(RedisBackend(os.environ["HUB_REDIS_URL"]))


@rest_controller
class RoomsController:
    """A room shared by every worker through Redis."""

    @websocket_mapping("/rooms/{room}")
    async def room(self, session: WebSocketSession) -> None:
        room = session.path_params["room"]
        await session.accept()
        await HUB.join(session, room)
        await session.send_text(f"joined {os.getpid()}")
        async for text in session.iter_text():
            await HUB.publish(room, text)


app = create_app(RoomsController, services=[HUB])
