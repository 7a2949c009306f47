"""The Redis hub with a real Redis and two server processes: delivery, isolation, order, counts, restarts."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect

from pyfly_ws_conformance.servers import running
from tests.redis.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

ROOT = str(Path(__file__).resolve().parents[2])
TARGET = "tests.redis.app:app"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def servers(redis: RedisServer, adapter_name: str) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes serving ``tests.redis.app`` on ``adapter_name``, sharing ``redis``."""
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": redis.url,
        "HUB_RETRY_FOR": "1",
    }
    with ExitStack() as stack:
        first = stack.enter_context(running("uvicorn-sansio", TARGET, env=env))
        second = stack.enter_context(running("uvicorn-sansio", TARGET, env=env))
        yield first, second


async def join(stack: AsyncExitStack, base: str, room: str) -> ClientConnection:
    ws = await stack.enter_async_context(connect(f"{base}/rooms/{room}", open_timeout=10))
    with anyio.fail_after(10):
        assert await ws.recv() == "joined"
    return ws


async def until_everyone_hears(publisher: ClientConnection, listeners: list[ClientConnection]) -> None:
    """Publish warm-ups until each listener got one: every process's subscription is then in place."""
    waiting = set(range(len(listeners)))
    with anyio.fail_after(20):
        n = 0
        while waiting:
            await publisher.send(f"warmup:{n}")
            n += 1
            await anyio.sleep(0.1)
            for i in list(waiting):
                while True:
                    with anyio.move_on_after(0.05):
                        if str(await listeners[i].recv()).startswith("warmup:"):
                            waiting.discard(i)
                        continue
                    break


async def messages(ws: ClientConnection, count: int, prefix: str = "m:") -> list[str]:
    """The next ``count`` messages starting with ``prefix`` (others are skipped)."""
    got: list[str] = []
    with anyio.fail_after(20):
        while len(got) < count:
            text = str(await ws.recv())
            if text.startswith(prefix):
                got.append(text)
    return got


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def test_every_client_gets_every_message_of_its_room_in_order_and_no_other(
    servers: tuple[str, str], stack: AsyncExitStack
) -> None:
    first, second = servers
    red = [await join(stack, base, "red") for base in (first, first, first, second, second, second)]
    blue = [await join(stack, base, "blue") for base in (first, second)]
    await until_everyone_hears(red[0], red)
    await until_everyone_hears(blue[0], blue)
    for i in range(50):
        await red[0].send(f"m:one:{i}")
        await red[3].send(f"m:two:{i}")
    for ws in red:
        got = await messages(ws, 100)
        assert [m for m in got if m.startswith("m:one:")] == [f"m:one:{i}" for i in range(50)]
        assert [m for m in got if m.startswith("m:two:")] == [f"m:two:{i}" for i in range(50)]
    await blue[0].send("m:blue")
    for ws in blue:
        assert await messages(ws, 1) == ["m:blue"]  # and nothing of red's came before it


async def test_member_counts_are_cluster_wide(servers: tuple[str, str], stack: AsyncExitStack) -> None:
    first, second = servers
    green = [await join(stack, base, "green") for base in (first, first, first, second, second)]
    with anyio.fail_after(10):
        while True:
            await green[0].send("count")
            counts = await messages(green[0], 1, "count:")
            if counts == ["count:5"]:
                break
            await anyio.sleep(0.1)
    await green[4].close()
    with anyio.fail_after(10):
        while True:
            await green[0].send("count")
            if await messages(green[0], 1, "count:") == ["count:4"]:
                break
            await anyio.sleep(0.1)


async def test_a_redis_restart_keeps_sessions_open_and_delivery_comes_back(
    redis: RedisServer, servers: tuple[str, str], stack: AsyncExitStack
) -> None:
    first, second = servers
    sender, receiver = await join(stack, first, "ops"), await join(stack, second, "ops")
    await until_everyone_hears(sender, [receiver])
    redis.stop()
    await sender.send("during")
    assert await messages(sender, 1, "unavailable:") == ["unavailable:during"]  # after retrying for 1 s
    redis.start()
    with anyio.fail_after(30):
        n = 0
        while True:
            await sender.send(f"m:after:{n}")
            n += 1
            with anyio.move_on_after(0.3):
                if (await messages(receiver, 1))[0].startswith("m:after:"):
                    break
    for base in (first, second):
        async with connect(f"{base}/stats") as stats:
            logged = json.loads(await stats.recv())
        assert logged == {"outage": 1, "recovery": 1}, (base, logged)


async def test_the_hub_starts_and_stops_with_the_application(redis: RedisServer, adapter_name: str) -> None:
    """Every adapter starts its services on lifespan startup and stops them after the drain."""
    from pyfly_ws import create_app
    from pyfly_ws.hub import Hub
    from pyfly_ws.testing import ASGIClient
    from tests.support.drain import Held

    hub = Hub(redis.url)
    app = create_app(Held, adapter_name, services=[hub])
    async with ASGIClient(app) as client, client.connect("/held") as ws:
        assert hub.started
        assert await ws.receive() == "ready"
        await client.shutdown()
        assert await ws.wait_closed() == (1001, "server shutting down")
    assert not hub.started


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_redis_fails_the_hub_start_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from pyfly_ws.hub import Hub, HubUnavailableError, RedisBackend

    port = closed_port()
    hub = Hub(RedisBackend(f"redis://:secret@127.0.0.1:{port}/0", retry_for=1))
    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as failed:
        await hub.start()
    took = time.monotonic() - started
    assert 1 <= took < 4, took  # retried for retry_for, then gave up
    message = str(failed.value)
    assert re.fullmatch(
        rf"the hub cannot start: Redis at redis://:\*\*\*@127\.0\.0\.1:{port}/0 is unreachable \(.*{port}.*\); "
        r"tried for 1 s",
        message,
    ), message
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    shown = "".join(traceback.format_exception(failed.value))
    assert shown.count("Traceback") == 1 and "site-packages/redis" not in shown, shown  # no chain, no redis-py frames
    assert len(shown.splitlines()) <= 8, shown  # the caller's frame, the hub's, and the line
    assert not hub.started
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the error says it all, once


def test_an_unreachable_redis_fails_start_up_under_uvicorn_in_one_clear_line(adapter_name: str) -> None:
    port = closed_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": f"redis://:secret@127.0.0.1:{port}/0",
        "HUB_RETRY_FOR": "1",
    }
    argv = [sys.executable, "-m", "uvicorn", TARGET, "--port", str(closed_port()), "--lifespan", "on"]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    out = done.stdout + done.stderr
    assert done.returncode == 3, out  # uvicorn's "startup failed"
    assert took < 15, took
    line = f"the hub cannot start: Redis at redis://:***@127.0.0.1:{port}/0 is unreachable"
    assert line in out, out
    assert "secret" not in out
    assert "During handling" not in out and "direct cause" not in out, out  # no chain of redis-py's errors
    assert "site-packages/redis" not in out, out
    if adapter_name == "asgi":  # the framework-free adapter says it in one line; frameworks add their own traceback
        assert "Traceback" not in out, out
