"""The floors ``python -m bench.text_limit`` sets beside the native transport do the work they are named for."""

from __future__ import annotations

import pytest
import websockets

from bench.targets import picows_text

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("way", sorted(picows_text.WAYS))
async def test_each_floor_sends_every_text_message_back_as_the_same_text(way: str) -> None:
    server = await picows_text.start("127.0.0.1", 0, way)
    port = server.sockets[0].getsockname()[1]
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as client:
            for text in ("héllo ✓", "x" * 16384, "ü" * 9000):
                await client.send(text)
                echoed = await client.recv()
                assert type(echoed) is str and echoed == text
    finally:
        server.close()
        await server.wait_closed()
