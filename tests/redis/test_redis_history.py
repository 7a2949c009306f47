"""Nothing lost across reconnects and outages: two server processes, a real Redis, real clients.

A client that was away, or whose server died, rejoins from the position of
the last publication it got and receives every later one, in order, once;
when Redis itself goes away and comes back, the rooms with history catch up
from their streams, and the members of the others are told to resync.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from pyfly_ws.hub import Position
from pyfly_ws_conformance.servers import serving
from tests.redis.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

ROOT = str(Path(__file__).resolve().parents[2])
TARGET = "tests.redis.history_app:app"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server(persistent=True) as server:  # a restart keeps the streams, as a production Redis would
        yield server


@pytest.fixture
def servers(redis: RedisServer, adapter_name: str) -> Iterator[list[tuple[str, int]]]:
    """Two uvicorn processes serving the history app on ``adapter_name``: ``(url, pid)`` each."""
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": redis.url,
        "HUB_RETRY_FOR": "1",
    }
    with ExitStack() as stack:
        served = [stack.enter_context(serving("uvicorn-sansio", TARGET, env=env)) for _ in range(2)]
        yield [(s.url, s.pid) for s in served]


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


class Member:
    """A client in a room: what it got, and the position of the last publication among it."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.last: str | None = None
        self.said: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []

    async def next(self, *types: str, timeout: float = 20) -> dict[str, Any]:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "said":
                    self.said.append(frame)
                    self.last = frame.get("position")
                elif frame["type"] == "joined":
                    self.last = frame["data"]["position"]
                elif frame["type"] in ("recovered", "resync"):
                    self.notices.append(frame)
                if frame["type"] in types:
                    return frame  # type: ignore[no-any-return]

    async def said_until(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            while len(self.said) < count:
                await self.next("said")
        return self.said


async def member(stack: AsyncExitStack, base: str, room: str, since: str | None = None) -> Member:
    query = f"?since={since}" if since else ""
    joined = Member(await stack.enter_async_context(connect(f"{base}/history/{room}{query}", open_timeout=10)))
    await joined.next("recovered" if since else "joined")
    return joined


async def until_everyone_hears(talker: Member, others: list[Member]) -> None:
    """Publish until every other member got one: each process's subscription is then in place."""
    with anyio.fail_after(20):
        n = 0
        while True:
            await talker.ws.send(json.dumps({"type": "say", "id": f"w{n}", "data": {"warmup": n}}))
            n += 1
            await anyio.sleep(0.2)
            if all(any("warmup" in f["data"] for f in m.said) for m in others):
                return
            for m in others:
                with anyio.move_on_after(0.05):
                    await m.next("said")


async def drain(ws: ClientConnection) -> None:
    """Read until the connection ends."""
    while True:
        await ws.recv()


def numbers(said: list[dict[str, Any]], key: str = "n") -> list[int]:
    return [f["data"][key] for f in said if key in f["data"]]


def offsets(said: list[dict[str, Any]]) -> list[int]:
    return [Position.parse(f["position"]).offset for f in said]


async def burst(talker: Member, count: int, tag: str) -> None:
    await talker.ws.send(json.dumps({"type": "burst", "id": tag, "data": {"count": count, "tag": tag}}))
    with anyio.fail_after(30):
        while (await talker.next("reply"))["id"] != tag:
            pass


async def test_a_client_away_for_5_s_gets_the_100_it_missed_in_order_then_live(
    servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    (first, _), (second, _) = servers
    talker = await member(stack, first, "h-away")
    async with AsyncExitStack() as away:
        leaver = await member(away, second, "h-away")
        await until_everyone_hears(talker, [leaver])
        since = leaver.last
    assert since is not None
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(burst, talker, 100, "missed")
            await anyio.sleep(5)  # offline for 5 s while the other process publishes
    back = await member(stack, second, "h-away", since)
    assert numbers(back.said) == list(range(100))  # exactly those, in order, before the notice
    start, replayed = Position.parse(since).offset, len(back.said)  # (a late warm-up may come first)
    assert offsets(back.said) == list(range(start + 1, start + 1 + replayed))
    assert back.notices[-1]["data"]["recovered"] is True and back.notices[-1]["data"]["replayed"] == replayed
    await burst(talker, 3, "live")
    live = (await back.said_until(replayed + 3))[replayed:]
    assert numbers(live) == [0, 1, 2] and offsets(live) == [start + replayed + i for i in (1, 2, 3)]


async def test_a_client_whose_first_connection_got_nothing_recovers_too(
    servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    (first, _), (second, _) = servers
    async with AsyncExitStack() as away:
        quiet = await member(away, second, "h-quiet")
        since = quiet.last  # the position it joined at: it got no publication
    assert since is not None and quiet.said == []
    talker = await member(stack, first, "h-quiet")
    await burst(talker, 20, "while-away")
    back = await member(stack, second, "h-quiet", since)
    assert numbers(back.said) == list(range(20)) and back.notices[-1]["data"]["recovered"] is True


async def test_a_client_whose_server_died_recovers_on_the_other(
    servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    (first, _), (second, doomed) = servers
    talker = await member(stack, first, "h-crash")
    async with AsyncExitStack() as lost:
        victim = await member(lost, second, "h-crash")
        await until_everyone_hears(talker, [victim])
        since = victim.last
        os.killpg(doomed, signal.SIGKILL)  # the server and its workers, as a crash would
        with anyio.fail_after(10), pytest.raises(ConnectionClosed):
            await drain(victim.ws)  # the connection breaks
    await burst(talker, 30, "after-crash")
    assert since is not None
    back = await member(stack, first, "h-crash", since)
    assert numbers(back.said) == list(range(30)) and back.notices[-1]["data"]["recovered"] is True


async def test_a_redis_outage_loses_nothing_in_rooms_with_history_and_resyncs_the_others(
    redis: RedisServer, servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    """Redis is killed for 10 s while a publisher goes on: what it stored reaches every member, once, in order."""
    (first, _), (second, _) = servers
    talker = await member(stack, first, "h-outage")
    members = [await member(stack, base, "h-outage") for base in (first, second, second)]
    plain = [await member(stack, base, "plain-outage") for base in (first, second)]
    await until_everyone_hears(talker, members)
    await until_everyone_hears(plain[0], plain[1:])
    stored: list[int] = []
    refused: list[int] = []

    async def publish(i: int) -> None:
        await talker.ws.send(json.dumps({"type": "say", "id": f"p{i}", "data": {"i": i}}))
        while True:
            frame = await talker.next("reply", "error")
            if frame.get("id") == f"p{i}":
                (stored if frame["type"] == "reply" else refused).append(i)
                return

    with anyio.fail_after(60):
        i = 0
        for _ in range(30):
            await publish(i)
            i += 1
        redis.stop()
        down = anyio.current_time()
        while anyio.current_time() - down < 10:
            await publish(i)  # refused after retrying for 1 s each
            i += 1
        redis.start()
        while len(stored) < 60:
            await publish(i)
            i += 1
            await anyio.sleep(0.02)
    assert refused, "no publication was refused while Redis was down"
    for m in members:
        with anyio.move_on_after(20):
            while len(numbers(m.said, "i")) < len(stored):
                await m.next("said")
        with anyio.move_on_after(0.5):
            await m.next("said")  # nothing more comes (no publication twice)
        got = numbers(m.said, "i")
        assert got == stored, (got, stored)  # every stored one, once, in order
        assert offsets(m.said) == sorted(set(offsets(m.said)))
    for m in plain:
        with anyio.fail_after(20):
            while not any(n["type"] == "resync" for n in m.notices):
                await m.next("resync")
        assert next(n["data"] for n in m.notices if n["type"] == "resync") == {"room": "plain-outage"}


async def test_processes_whose_pubsub_link_keeps_dropping_catch_up_from_the_stream(
    redis: RedisServer, servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    """Redis stays up but drops every subscriber again and again: publications made meanwhile come from the stream."""
    import redis.asyncio as aioredis

    (first, _), (second, _) = servers
    talker = await member(stack, first, "h-flaky")
    members = [await member(stack, base, "h-flaky") for base in (first, second)]
    plain = [await member(stack, base, "plain-flaky") for base in (first, second)]
    await until_everyone_hears(talker, members)
    await until_everyone_hears(plain[0], plain[1:])
    client = aioredis.Redis.from_url(redis.url)
    kills = 0
    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:

                async def drop_subscribers() -> None:
                    nonlocal kills
                    while True:
                        kills += int(await client.client_kill_filter(_type="pubsub"))
                        await anyio.sleep(0.05)

                group.start_soon(drop_subscribers)
                await burst(talker, 300, "flaky")
                group.cancel_scope.cancel()
    finally:
        await client.aclose()
    assert kills >= 4, kills
    for m in members:
        with anyio.move_on_after(20):
            while numbers(m.said).count(299) == 0:
                await m.next("said")
        with anyio.move_on_after(0.5):
            await m.next("said")
        assert numbers(m.said) == list(range(300))  # each once, in order: the holes were filled from the stream
    for m in plain:
        with anyio.fail_after(20):
            while not any(n["type"] == "resync" for n in m.notices):
                await m.next("resync")


async def test_presence_spans_the_processes_and_a_crashed_one_drops_out(
    servers: list[tuple[str, int]], stack: AsyncExitStack
) -> None:
    (first, _), (second, doomed) = servers
    watcher = Member(await stack.enter_async_context(connect(f"{first}/history/den?identity=watcher")))
    await watcher.next("presence.join")
    async with AsyncExitStack() as lost:
        for base, who in ((first, "ann"), (second, "ann"), (second, "bob")):
            await member(stack if base == first else lost, base, f"den?identity={who}")
        events: list[dict[str, Any]] = []
        with anyio.fail_after(10):
            while {e["data"]["identity"] for e in events} != {"ann", "bob"}:
                events.append(await watcher.next("presence.join"))
        assert sorted(e["data"]["identity"] for e in events) == ["ann", "bob"]  # ann once, for two tabs
        for base in (first, second):
            probe = await member(stack, base, "den")
            await probe.ws.send(json.dumps({"type": "who", "id": "w"}))
            assert (await probe.next("reply"))["data"] == {"present": ["ann", "bob", "watcher"]}
        started = anyio.current_time()
        os.killpg(doomed, signal.SIGKILL)  # bob's only process: no goodbye
        left = await watcher.next("presence.leave", timeout=30)
        assert left["data"] == {"room": "den", "identity": "bob"}  # ann is still here, on the first process
        assert anyio.current_time() - started < 25  # the heartbeat key expires after 15 s, swept every 5 s
    probe = await member(stack, first, "den")
    await probe.ws.send(json.dumps({"type": "who", "id": "w"}))
    assert (await probe.next("reply"))["data"] == {"present": ["ann", "watcher"]}
