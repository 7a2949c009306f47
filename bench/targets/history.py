"""The targets of ``python -m bench.history``: rooms on a Redis hub, with a history or without.

``/room/{room}`` (message-level) joins the room, from ``?since=POSITION`` when
given; joined without it, it pushes ``joined`` ``{"position"}``; with
``?publisher`` it joins nothing. ``burst`` ``{"count", "r"}`` publishes the push
``said`` ``{"r", "n"}`` to the room ``count`` times, one after the other, and
answers ``{"sent": count}`` once the last is published. The two apps differ
only in ``Hub(..., history=...)``; ``BENCH_REDIS_URL`` names the Redis.
"""

from __future__ import annotations

import os
from typing import Any

from pyfly_ws import (
    Container,
    Limits,
    WebSocketSession,
    create_app,
    message_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.hub import HistoryPolicy, Hub

HISTORY = HistoryPolicy(size=1000, ttl=600)
"""What the room keeps with history on: enough for the 1,000 missed messages the recovery replays."""

LIMITS = Limits(send_queue=4096)
"""Room for a whole burst in each member's queue (the default 64 would close members the burst outruns)."""

MAX_BURST = LIMITS.send_queue
"""The most messages one burst may publish."""


@rest_controller
@websocket_mapping("/room/{room}", limits=LIMITS)
class Room:
    """A member of a room, rejoining from a position when it has one; or, with ``?publisher``, its publisher."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def on_connect(self, session: WebSocketSession) -> None:
        await session.accept()
        if "publisher" in session.query_params:
            return
        since = session.query_params.get("since") or None
        joined = await self.hub.join(session, session.path_params["room"], since=since)
        if since is None:
            await session.emit("joined", {"position": None if joined.position is None else str(joined.position)})

    @message_mapping("burst")
    async def burst(self, session: WebSocketSession, data: dict[str, Any]) -> dict[str, int]:
        room, count, tag = session.path_params["room"], int(data["count"]), data["r"]
        for n in range(count):
            await self.hub.publish_message(room, "said", {"r": tag, "n": n})
        return {"sent": count}


def build_history_app(history: bool) -> Any:
    """The app on the ``asgi`` adapter, its hub on the Redis of ``BENCH_REDIS_URL``, rooms with history or not."""
    hub = Hub(os.environ["BENCH_REDIS_URL"], history=HISTORY if history else None)
    container = Container()
    container.register_instance(hub)
    container.register(Room)
    return create_app(container, adapter="asgi", services=[hub])
