"""Rooms: clients in the same room see each other's messages, as JSON.

    pyfly-ws run examples.rooms
    # ws://127.0.0.1:8000/ws/rooms/lobby               anonymous member of "lobby"
    # ws://127.0.0.1:8000/ws/rooms/lobby/members/7     member 7 ({member_id:int} is an int)

Each text message is published to the room as
``{"room": "lobby", "from": 7, "text": "hi"}`` (``"from": null`` when anonymous).
On joining, a client first receives ``{"room": ..., "joined": <member or null>, "members": <count>}``.
The rooms live on a :class:`~pyfly_ws.hub.Hub` in memory; ``examples.chat`` shows one shared over Redis.
"""

from __future__ import annotations

from pyfly_ws import Limits, WebSocketSession, request_mapping, rest_controller, websocket_mapping, websocket_policy
from pyfly_ws.hub import Hub


@rest_controller
@request_mapping("/ws/rooms")
@websocket_policy(limits=Limits(send_queue=256, overflow="close"))  # a member too slow for the room is closed
class RoomsController:
    """A room per room id, on one in-memory hub; members leave by themselves when their session ends."""

    def __init__(self) -> None:
        self.hub = Hub()

    @websocket_mapping("/{room_id}")
    async def join(self, session: WebSocketSession) -> None:
        await self._serve(session, session.path_params["room_id"], None)

    @websocket_mapping("/{room_id}/members/{member_id:int}")
    async def join_as(self, session: WebSocketSession) -> None:
        await self._serve(session, session.path_params["room_id"], session.path_params["member_id"])

    async def _serve(self, session: WebSocketSession, room: str, member: int | None) -> None:
        await session.accept()
        await self.hub.join(session, room)
        await self.hub.publish_json(room, {"room": room, "joined": member, "members": self.hub.members(room)})
        async for text in session.iter_text():
            await self.hub.publish_json(room, {"room": room, "from": member, "text": text})
