"""The raw ASGI target: the endpoints written against the ASGI messages themselves, no framework."""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]

_room: set[Any] = set()


async def app(scope: Scope, receive: Any, send: Any) -> None:
    """Echo at ``/echo``, the shared room at ``/room``, 404 for HTTP, and a lifespan that succeeds."""
    kind = scope["type"]
    if kind == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        if scope["path"] == "/room":
            await _join(receive, send)
        else:
            await _echo(receive, send)
    elif kind == "http":
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
    elif kind == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


async def _echo(receive: Any, send: Any) -> None:
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})


async def _join(receive: Any, send: Any) -> None:
    _room.add(send)
    try:
        await send({"type": "websocket.send", "text": "joined"})
        while (message := await receive())["type"] == "websocket.receive":
            text = message.get("text") or ""
            if text.startswith("go:"):
                out = {"type": "websocket.send", "text": text[3:]}
                for member in list(_room):
                    await member(out)
    finally:
        _room.discard(send)
