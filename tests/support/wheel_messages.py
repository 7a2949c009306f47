"""Run by the ``wheel`` session with only pyfly-ws (and pytest) installed: messages need no extra.

A message-level endpoint with a standard-library dataclass payload serves, validates and
replies; pydantic and msgspec are never imported; the MessagePack codec names its extra.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

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
    print("a message-level endpoint serves with no extra; the MessagePack codec names its extra")
