"""Hand-written Quart endpoints, as Quart's documentation writes them."""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Quart, websocket

app = Quart(__name__)
_room: set[Any] = set()


@app.websocket("/echo")
async def echo() -> None:
    while True:
        await websocket.send(await websocket.receive())


@app.websocket("/room")
async def room() -> None:
    await websocket.accept()
    outbox: asyncio.Queue[str] = asyncio.Queue()
    _room.add(outbox)
    try:
        await websocket.send("joined")
        sender = asyncio.ensure_future(_forward(outbox))
        try:
            while True:
                text = await websocket.receive()
                if isinstance(text, str) and text.startswith("go:"):
                    for member in list(_room):
                        member.put_nowait(text[3:])
        finally:
            sender.cancel()
    finally:
        _room.discard(outbox)


async def _forward(outbox: asyncio.Queue[str]) -> None:
    # Quart's ``websocket`` is bound to the handler's context; the task copies it.
    while True:
        await websocket.send(await outbox.get())
