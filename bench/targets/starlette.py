"""Hand-written Starlette endpoints, as Starlette's documentation writes them."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

_room: set[WebSocket] = set()


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    _room.add(websocket)
    try:
        await websocket.send_text("joined")
        async for text in websocket.iter_text():
            if text.startswith("go:"):
                for member in list(_room):
                    await member.send_text(text[3:])
    finally:
        _room.discard(websocket)


app = Starlette(routes=[WebSocketRoute("/echo", echo), WebSocketRoute("/room", room)])
