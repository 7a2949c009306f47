"""Run by the ``wheel`` session with only pyfly-ws (and pytest) installed: messages need no extra.

A message-level endpoint with a standard-library dataclass payload serves, validates and
replies; pydantic and msgspec are never imported; the MessagePack codec names its extra. Its
AsyncAPI pages serve too: the document and the HTML page, and the YAML one a 404 naming its extra.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

import pyfly_ws
from pyfly_ws import (
    MessagePackCodec,
    MissingDependencyError,
    WebSocketSession,
    create_app,
    message_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.testing import ASGIClient


@dataclass
class Greeting:
    name: str


@rest_controller
@websocket_mapping("/hello")
class Hello:
    @message_mapping("greet")
    async def greet(self, session: WebSocketSession, data: Greeting) -> str:
        return f"hello, {data.name}"


async def main() -> None:
    async with ASGIClient(create_app(Hello)) as client, client.connect("/hello") as ws:
        await ws.send_json({"type": "greet", "id": 1, "data": {"name": "Ada"}})
        assert await ws.receive_json() == {"type": "reply", "id": 1, "data": "hello, Ada"}
        await ws.send_json({"type": "greet", "id": 2, "data": {}})
        error = await ws.receive_json()
        assert (error["code"], error["errors"][0]["kind"]) == ("invalid_payload", "missing"), error
    app = create_app(Hello, asyncapi="/asyncapi")
    status, document = await get(app, "/asyncapi.json")
    assert status == 200 and json.loads(document)["channels"]["Hello"]["address"] == "/hello", document
    status, page = await get(app, "/asyncapi")
    assert status == 200 and b"greet" in page, page
    status, body = await get(app, "/asyncapi.yaml")
    assert status == 404 and b'pip install "pyfly-ws[yaml]"' in body, (status, body)


async def get(app: Any, path: str) -> tuple[int, bytes]:
    """``GET path`` through the application's ASGI interface: its status and body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [],
        "client": None,
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


if __name__ == "__main__":
    assert "site-packages" in pyfly_ws.__file__, pyfly_ws.__file__
    asyncio.run(main())
    imported = sorted({"pydantic", "msgspec"} & set(sys.modules))
    assert not imported, f"a dataclass-only application imported {imported}"
    message = ""
    try:
        MessagePackCodec()
    except MissingDependencyError as exc:
        message = str(exc)
    assert 'pip install "pyfly-ws[msgpack]"' in message, f"MessagePackCodec() without msgspec: {message!r}"
    assert "yaml" not in sys.modules
    print("a message-level endpoint and its AsyncAPI pages serve with no extra; MessagePack and YAML name theirs")
