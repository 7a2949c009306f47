"""Hand-written Litestar endpoints, as Litestar's documentation writes them."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

_room: set[WebSocket[Any, Any, Any]] = set()


@websocket("/echo")
async def echo(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    try:
        while True:
            await socket.send_text(await socket.receive_text())
    except WebSocketDisconnect:
        pass


@websocket("/room")
async def room(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    _room.add(socket)
    try:
        await socket.send_text("joined")
        while True:
            text = await socket.receive_text()
            if text.startswith("go:"):
                for member in list(_room):
                    await member.send_text(text[3:])
    except WebSocketDisconnect:
        pass
    finally:
        _room.discard(socket)


app = Litestar(route_handlers=[echo, room])
