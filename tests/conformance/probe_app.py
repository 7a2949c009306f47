"""A raw ASGI app (no framework, no pyfly-ws) that exposes what an ASGI server does, one path per behaviour.

Served by ``pyfly_ws_conformance.servers.running`` as ``tests.conformance.probe_app:app``.
What the app itself observes (the disconnect it got, whether a late send raised) is kept
in memory under the ``key`` query parameter and read back over ``/report?key=...``; every
server runs this app in a single process, so the memory is shared.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CLOSE_CODE, CLOSE_REASON = 4000, "probe-reason"
DENIAL_STATUS, DENIAL_BODY = 401, b"denied"
HEADER, SUBPROTOCOL = ("x-probe", "yes"), "probe.v2"

records: dict[str, dict[str, Any]] = {}
lifespan_started = False


async def _until_disconnect(receive: Receive) -> Message:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return message


async def _try_send(send: Send, message: Message) -> str | None:
    """The name of the exception ``send`` raised, or ``None`` if it returned."""
    try:
        await send(message)
    except Exception as exc:
        return f"{type(exc).__module__}.{type(exc).__qualname__}"
    return None


async def _echo(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes")})


async def _report(key: str, send: Send) -> None:
    for _ in range(500):
        if key in records:
            break
        await asyncio.sleep(0.01)
    await send({"type": "websocket.send", "text": json.dumps(records.pop(key, None))})


async def _flood(key: str, send: Send) -> None:
    """Send 16 KiB messages to a client that does not read: does a ``send`` ever wait (up to 32 MiB)?"""
    chunk = b"x" * 16384
    for sent in range(2048):
        try:
            await asyncio.wait_for(send({"type": "websocket.send", "bytes": chunk}), 1.0)
        except TimeoutError:
            records[key] = {"stalled": True, "sent": sent}
            return
    records[key] = {"stalled": False, "sent": 2048}


async def _scope(scope: dict[str, Any], send: Send) -> None:
    facts = {
        "client": scope.get("client"),
        "extensions": sorted(scope.get("extensions") or {}),
        "lifespan": lifespan_started,
        "subprotocols": scope.get("subprotocols"),
        "x-twice": [value.decode() for name, value in scope.get("headers", []) if name == b"x-twice"],
    }
    await send({"type": "websocket.send", "text": json.dumps(facts)})


async def websocket(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The WebSocket probes: the path picks the behaviour, ``key`` names what the app records."""
    await receive()  # websocket.connect
    path, key = scope["path"], parse_qs(scope["query_string"].decode()).get("key", [""])[0]
    if path == "/deny":
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(DENIAL_BODY)).encode())]
        await send({"type": "websocket.http.response.start", "status": DENIAL_STATUS, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": DENIAL_BODY})
        return
    if path == "/close-before-accept":
        await send({"type": "websocket.close", "code": 1000})
        return
    accept: Message = {"type": "websocket.accept"}
    if path == "/accept-headers":
        accept["headers"] = [(HEADER[0].encode(), HEADER[1].encode())]
    elif path == "/subprotocol":
        accept["subprotocol"] = SUBPROTOCOL
    await send(accept)
    if path == "/close-reason":
        await send({"type": "websocket.close", "code": CLOSE_CODE, "reason": CLOSE_REASON})
    elif path == "/close-1008":
        await send({"type": "websocket.close", "code": 1008})
    elif path == "/peer-close":
        message = await _until_disconnect(receive)
        records[key] = {"code": message.get("code"), "reason": message.get("reason")}
    elif path == "/drop":
        message = await _until_disconnect(receive)
        raised = await _try_send(send, {"type": "websocket.send", "text": "late"})
        records[key] = {"code": message.get("code"), "raised": raised}
    elif path == "/send-empty":
        for message in ({"text": ""}, {"bytes": b""}, {"text": "end"}):
            await send({"type": "websocket.send", **message})
    elif path == "/echo":
        await _echo(receive, send)
    elif path == "/scope":
        await _scope(scope, send)
    elif path == "/report":
        await _report(key, send)
    elif path == "/flood":
        await _flood(key, send)
    else:
        await send({"type": "websocket.close", "code": 1000})


async def _lifespan(receive: Receive, send: Send) -> None:
    global lifespan_started
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            lifespan_started = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(send: Send) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"10")]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": b"not found\n"})


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The probe application: WebSocket probes, the lifespan, and a 404 for any HTTP request."""
    if scope["type"] == "websocket":
        await websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await _http(send)
