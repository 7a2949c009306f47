"""The app the Redis tests serve in several processes: rooms on a hub backed by ``HUB_REDIS_URL``.

``/rooms/{room}``: join, answer ``joined``, then publish every text message to the room
(``count`` answers the cluster-wide member count instead). ``/stats``: how often the hub
logged an outage and a recovery in this process. A ``redis+cluster://...`` URL names a Redis Cluster.
"""

from __future__ import annotations

import logging
import os
from collections import Counter

from pyfly_ws import WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub, HubUnavailableError, RedisBackend, RedisClusterBackend

URL = os.environ["HUB_REDIS_URL"]
Backend = RedisClusterBackend if URL.startswith("redis+cluster://") else RedisBackend
HUB = Hub(Backend(URL, retry_for=float(os.environ.get("HUB_RETRY_FOR", "5"))))
LOGGED: Counter[str] = Counter()


class _Count(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "unreachable" in message and record.levelno == logging.WARNING:
            LOGGED["outage"] += 1
        elif "reachable again" in message:
            LOGGED["recovery"] += 1


logging.getLogger("pyfly_ws.hub").addHandler(_Count())
logging.getLogger("pyfly_ws.hub").setLevel(logging.INFO)


@rest_controller
class RoomsController:
    """Rooms shared by every process of the test through Redis."""

    @websocket_mapping("/rooms/{room}")
    async def room(self, session: WebSocketSession) -> None:
        room = session.path_params["room"]
        await session.accept()
        await HUB.join(session, room)
        await session.send_text("joined")
        async for text in session.iter_text():
            if text == "count":
                await session.send_text(f"count:{await HUB.count(room)}")
                continue
            try:
                await HUB.publish(room, text)
            except HubUnavailableError:
                await session.send_text(f"unavailable:{text}")

    @websocket_mapping("/stats")
    async def stats(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(dict(LOGGED))


app = create_app(RoomsController, services=[HUB])
