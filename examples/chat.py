"""Chat: every text message goes to every connected client.

    pyfly-ws run examples.chat          # ws://127.0.0.1:8000/ws/chat?name=alice

A message is broadcast as ``"alice: hello"``. Broadcasting never waits on a
client: a slow one is dropped with close code 1013, a dead one is forgotten,
and everyone else keeps receiving.
"""

from __future__ import annotations

from examples.fanout import FanOut
from pyfly_ws import Limits, WebSocketSession, request_mapping, rest_controller, websocket_mapping


@rest_controller
@request_mapping("/ws")
class ChatController:
    """One chat room for everyone connected."""

    def __init__(self) -> None:
        self.everyone = FanOut()

    @websocket_mapping("/chat", limits=Limits(send_queue=256, overflow="close"))
    async def chat(self, session: WebSocketSession) -> None:
        name = session.query_params.get("name") or "anonymous"
        await session.accept()
        async with self.everyone.member(session):
            async for text in session.iter_text():
                self.everyone.publish(f"{name}: {text}")
