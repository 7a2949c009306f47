"""The framework-free asgi adapter's own surface: fallback app, HTTP answers, lifespan hooks."""

from __future__ import annotations

import http.client
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from examples.echo import EchoController
from pyfly_ws import create_app
from pyfly_ws.adapter import Receive, Scope, Send
from pyfly_ws.asgi import PyflyASGIApp
from tests.support.server import serve

pytestmark = pytest.mark.anyio


def http_get(base: str, path: str) -> tuple[int, str, str | None]:
    host, port = base.removeprefix("ws://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(), response.getheader("upgrade")
    finally:
        conn.close()


async def test_http_answers_without_fallback() -> None:
    with serve(create_app(EchoController, "asgi")) as base:
        assert http_get(base, "/ws/echo") == (426, "Upgrade Required: this is a WebSocket endpoint\n", "websocket")
        assert http_get(base, "/elsewhere")[:2] == (404, "Not Found\n")


async def test_fallback_gets_everything_else_and_its_lifespan() -> None:
    seen: list[str] = []

    async def other_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                seen.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"from the other app"})
        else:
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "other websocket"})

    with serve(create_app(EchoController, "asgi", fallback=other_app)) as base:
        assert http_get(base, "/anything")[:2] == (200, "from the other app")
        async with connect(base + "/ws/echo") as ws:
            await ws.send("mine")
            assert await ws.recv() == "mine"
        async with connect(base + "/not/ours") as ws:
            assert await ws.recv() == "other websocket"
    assert seen == ["lifespan.startup", "lifespan.shutdown"]


async def test_lifespan_hooks_sync_and_async_and_failure(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def started() -> None:
        calls.append("async startup")

    app = create_app(
        EchoController, "asgi", on_startup=[lambda: calls.append("sync startup"), started], on_shutdown=[calls.clear]
    )
    with serve(app) as base:
        assert calls == ["sync startup", "async startup"]
        async with connect(base + "/ws/echo") as ws:
            await ws.send(b"bytes")
            assert await ws.recv() == b"bytes"
    assert calls == []

    def broken() -> None:
        raise RuntimeError("no database")

    # Driven in-process: uvicorn exits its process when startup fails.
    events = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await create_app(EchoController, on_startup=[broken])({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.failed", "message": "RuntimeError('no database')"}]
    assert any("lifespan.startup hook failed" in r.getMessage() for r in caplog.records)


async def test_unknown_path_is_refused_and_options_are_checked() -> None:
    with serve(create_app(EchoController, "asgi")) as base:
        with pytest.raises(InvalidStatus) as info:
            async with connect(base + "/ws/nope"):
                pass
        assert info.value.response.status_code == 403
    with pytest.raises(TypeError, match="unexpected keyword argument 'debug'"):
        create_app(EchoController, "asgi", debug=True)
    app: Any = create_app(EchoController)
    assert isinstance(app, PyflyASGIApp)
    assert app.match("/ws/echo") is not None
    assert app.match("/ws/echo/x") is None
