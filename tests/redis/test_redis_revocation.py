"""Revocation across processes: ``hub.disconnect_user`` closes a user's sessions on every server of one Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pyfly_ws.hub import Hub, RedisBackend
from pyfly_ws_conformance.servers import serving
from tests.redis.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def urls(redis: RedisServer, adapter_name: str) -> Iterator[list[str]]:
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": redis.url,
    }
    with ExitStack() as stack:
        yield [stack.enter_context(serving("uvicorn-sansio", "tests.redis.auth_app:app", env=env)).url for _ in "12"]


async def test_disconnect_user_closes_that_user_on_every_process(redis: RedisServer, urls: list[str]) -> None:
    async with AsyncExitStack() as stack:
        sockets = {}
        for name, url, token in [
            ("alice-1", urls[0], "alice.a"),
            ("alice-2", urls[1], "alice.b"),
            ("bob", urls[1], "bob.c"),
        ]:
            ws = await stack.enter_async_context(
                connect(url + "/ws", additional_headers={"authorization": f"Bearer {token}"})
            )
            sockets[name] = ws
            assert str(await ws.recv()).startswith(f"hello {token.partition('.')[0]} ")
        async with Hub(RedisBackend(redis.url)) as hub:  # a third process's hub would do the same: it serves no app
            assert await hub.disconnect_user("alice", code=4003, reason="access revoked") == 0
            for name in ("alice-1", "alice-2"):
                with anyio.fail_after(10), pytest.raises(ConnectionClosed):
                    await sockets[name].recv()
                assert sockets[name].close_code == 4003
                assert sockets[name].close_reason == "access revoked"
        await sockets["bob"].send("still here")
        with anyio.fail_after(5):
            assert await sockets["bob"].recv() == "still here"
