"""Rooms with history, as the history tests serve them (in this process, or in several sharing Redis).

``/history/{room}?since=POSITION&identity=NAME``: a message-level endpoint. On
connecting it joins the room (from ``since``, as ``identity``, when given) and,
joined without ``since``, pushes ``joined`` ``{"position"}``. ``who`` answers
``{"present": [...]}``, the room's presence. ``say`` ``{...}`` publishes the push
``said`` with that data to the room (``"others": true`` leaves the sender
out) and answers ``{"to": members here}``, or the error ``unavailable``.
``burst`` ``{"count", "tag"}`` publishes ``said`` ``{"tag", "n"}`` that many
times. ``/raw/{room}``: a raw endpoint; every text message is published as it
is, with ``POSITION_MARK`` in it filled in.
"""

from __future__ import annotations

from typing import Any

from pyfly_ws import (
    Container,
    Limits,
    MessageError,
    WebSocketSession,
    create_app,
    message_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.adapter import ASGIApp
from pyfly_ws.hub import Hub, HubUnavailableError

LIMITS = Limits(send_queue=4096)
"""Room for every burst of the tests: a member that falls behind is not what they are about."""


@rest_controller
@websocket_mapping("/history/{room}", limits=LIMITS)
class HistoryRooms:
    """Members of rooms that keep their history, rejoining from where they left."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def on_connect(self, session: WebSocketSession) -> None:
        await session.accept()
        since = session.query_params.get("since") or None
        identity = session.query_params.get("identity") or None
        joined = await self.hub.join(session, session.path_params["room"], since=since, identity=identity)
        if since is None:
            await session.emit("joined", {"position": None if joined.position is None else str(joined.position)})

    @message_mapping("say")
    async def say(self, session: WebSocketSession, data: dict[str, Any]) -> dict[str, int]:
        exclude = session if data.get("others") else None
        try:
            to = await self.hub.publish_message(session.path_params["room"], "said", data, exclude=exclude)
        except HubUnavailableError as exc:
            raise MessageError("unavailable", str(exc)) from None
        return {"to": to}

    @message_mapping("who")
    async def who(self, session: WebSocketSession) -> dict[str, list[str]]:
        return {"present": await self.hub.presence(session.path_params["room"])}

    @message_mapping("burst")
    async def burst(self, session: WebSocketSession, data: dict[str, Any]) -> dict[str, int]:
        room = session.path_params["room"]
        for n in range(int(data["count"])):
            await self.hub.publish_message(room, "said", {"tag": data.get("tag"), "n": n})
        return {"sent": int(data["count"])}


@rest_controller
class RawRooms:
    """A raw endpoint in a room with history: what it publishes may hold the position mark."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @websocket_mapping("/raw/{room}", limits=LIMITS)
    async def raw(self, session: WebSocketSession) -> None:
        room = session.path_params["room"]
        await session.accept()
        await self.hub.join(session, room)
        position = self.hub.position(room)
        await session.send_text(f"joined {position}")
        async for text in session.iter_text():
            await self.hub.publish(room, text)


def build(hub: Hub, adapter: str | None = None) -> ASGIApp:
    """The application on ``adapter`` (the default one when ``None``), its hub started with it."""
    container = Container()
    container.register_instance(hub)
    container.register(HistoryRooms)
    container.register(RawRooms)
    app: ASGIApp = create_app(container, adapter, services=[hub])
    return app
