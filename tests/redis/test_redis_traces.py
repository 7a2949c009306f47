"""A hub publication continues its publisher's trace in another process sharing a real Redis."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect

from pyfly_ws_conformance.servers import running
from tests.redis.redis_server import RedisServer, redis_server
from tests.redis.test_redis_hub import ROOT

pytestmark = pytest.mark.anyio

TARGET = "tests.redis.traced_app:app"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


@pytest.fixture
def servers(adapter_name: str) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes serving the traced app on ``adapter_name``, sharing a real Redis."""
    with redis_server() as redis, ExitStack() as stack:
        env = _env(redis, adapter_name)
        yield (
            stack.enter_context(running("uvicorn-sansio", TARGET, env=env)),
            stack.enter_context(running("uvicorn-sansio", TARGET, env=env)),
        )


def _env(redis: RedisServer, adapter_name: str) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": redis.url,
    }


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def said(ws: ClientConnection) -> dict[str, Any]:
    """The next ``said`` push (within five seconds)."""
    with anyio.fail_after(5):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "said":
                return dict(frame)


async def spans_of(base: str) -> list[dict[str, Any]]:
    async with connect(f"{base}/spans", open_timeout=10) as ws:
        return list(json.loads(await ws.recv()))


async def test_a_publication_carries_the_publishers_trace_to_another_process(
    servers: tuple[str, str], stack: AsyncExitStack
) -> None:
    first, second = servers
    publisher = await stack.enter_async_context(connect(f"{first}/chat/r", open_timeout=10))
    listener = await stack.enter_async_context(connect(f"{second}/chat/r", open_timeout=10))
    with anyio.fail_after(20):  # until the second process's subscription is in place
        while True:
            await publisher.send(json.dumps({"type": "say", "data": "warm-up"}))
            with anyio.move_on_after(0.2):
                await said(listener)
                break
    await publisher.send(json.dumps({"type": "say", "data": "traced", "traceparent": TRACEPARENT}))
    while (frame := await said(listener))["data"] != "traced":
        pass
    _, trace, parent, _ = frame["traceparent"].split("-")
    assert trace == TRACE_ID  # the second process's client sees the publisher's trace
    published = [span for span in await spans_of(first) if span["trace"] == TRACE_ID]
    assert [(span["name"], span["span"]) for span in published] == [("message say", parent)]
    # The listener answers in the same trace: its message continues it in the second process.
    await listener.send(json.dumps({"type": "say", "data": "answer", "traceparent": frame["traceparent"]}))
    with anyio.fail_after(5):
        while True:
            answered = [span for span in await spans_of(second) if span["trace"] == TRACE_ID]
            if answered:
                break
            await anyio.sleep(0.05)
    assert [(span["name"], span["parent"]) for span in answered] == [("message say", parent)]
