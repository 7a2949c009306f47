"""Echo: every message comes back as it went, text as text and bytes as bytes.

pyfly-ws run examples.echo          # ws://127.0.0.1:8000/ws/echo
"""

from __future__ import annotations

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping


@rest_controller
@request_mapping("/ws")
class EchoController:
    """Echoes each message; a client disconnect simply ends the loop."""

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send(await session.receive())
