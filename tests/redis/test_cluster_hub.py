"""The Redis hub on a real three-master Redis Cluster, served by two processes: delivery, order, isolation, history.

The apps of the Redis tests, their hub made from ``HUB_REDIS_URL=redis+cluster://...`` through ``Hub(...)``'s
URL schemes; rooms chosen so that each of the three nodes owns some.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack

import anyio
import pytest

from pyfly_ws.hub import Position, RedisClusterBackend
from pyfly_ws_conformance.servers import running, serving
from tests.redis.redis_cluster import NODES, RedisCluster, redis_cluster
from tests.redis.test_redis_history import burst, member, numbers, offsets
from tests.redis.test_redis_history import until_everyone_hears as until_every_member_hears
from tests.redis.test_redis_hub import ROOT, join, messages, stack, until_everyone_hears

pytestmark = pytest.mark.anyio

__all__ = ["stack"]


@pytest.fixture
def cluster() -> Iterator[RedisCluster]:
    with redis_cluster() as running_cluster:
        yield running_cluster


def environment(cluster: RedisCluster, adapter_name: str) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
        "HUB_REDIS_URL": f"redis+cluster://127.0.0.1:{cluster.ports[0]},127.0.0.1:{cluster.ports[2]}/0",
        "HUB_RETRY_FOR": "1",
    }


def node_of(cluster: RedisCluster, room: str) -> int:
    """The node owning ``room`` (its channel's slot, by the slot ranges the cluster was given)."""
    import redis

    channel = RedisClusterBackend(cluster.url)._channel(room)
    with redis.Redis(host="127.0.0.1", port=cluster.ports[0]) as node:
        slot = int(node.execute_command("CLUSTER", "KEYSLOT", channel))
    return next(index for index, (first, last) in enumerate(cluster.slots) if first <= slot <= last)


def one_room_per_node(cluster: RedisCluster, stem: str) -> list[str]:
    """``stem-N`` rooms, the first found on each node, in node order."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < NODES:
        found.setdefault(node_of(cluster, f"{stem}-{n}"), f"{stem}-{n}")
        n += 1
    return [found[index] for index in range(NODES)]


async def test_every_client_gets_every_message_of_its_room_in_order_and_no_other(
    cluster: RedisCluster, adapter_name: str, stack: AsyncExitStack
) -> None:
    env = environment(cluster, adapter_name)
    with ExitStack() as servers:
        first, second = (servers.enter_context(running("uvicorn-sansio", "tests.redis.app:app", env=env)) for _ in "12")
        rooms = one_room_per_node(cluster, "red")
        members = {room: [await join(stack, base, room) for base in (first, first, second, second)] for room in rooms}
        blue = [await join(stack, base, "blue") for base in (first, second)]
        for room in rooms:
            await until_everyone_hears(members[room][0], members[room])
        await until_everyone_hears(blue[0], blue)
        for i in range(50):
            for room in rooms:
                await members[room][0].send(f"m:{room}:one:{i}")
                await members[room][2].send(f"m:{room}:two:{i}")
        for room in rooms:
            for ws in members[room]:
                got = await messages(ws, 100)
                assert [m for m in got if m.startswith(f"m:{room}:one:")] == [f"m:{room}:one:{i}" for i in range(50)]
                assert [m for m in got if m.startswith(f"m:{room}:two:")] == [f"m:{room}:two:{i}" for i in range(50)]
        await blue[0].send("m:blue")
        for ws in blue:
            assert await messages(ws, 1) == ["m:blue"]  # and nothing of the other rooms came before it
        await stack.aclose()


async def test_a_client_away_for_5_s_gets_the_100_it_missed_in_order_then_live(
    cluster: RedisCluster, adapter_name: str, stack: AsyncExitStack
) -> None:
    env = environment(cluster, adapter_name)
    with ExitStack() as servers:
        first, second = (
            servers.enter_context(serving("uvicorn-sansio", "tests.redis.history_app:app", env=env)).url for _ in "12"
        )
        rooms = one_room_per_node(cluster, "h-away")
        talkers = {room: await member(stack, first, room) for room in rooms}
        since: dict[str, str] = {}
        for room in rooms:
            async with AsyncExitStack() as away:
                leaver = await member(away, second, room)
                await until_every_member_hears(talkers[room], [leaver])
                assert leaver.last is not None
                since[room] = leaver.last
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for room in rooms:
                    group.start_soon(burst, talkers[room], 100, "missed")
                await anyio.sleep(5)  # offline for 5 s while the other process publishes in the three rooms
        for room in rooms:
            back = await member(stack, second, room, since[room])
            assert numbers(back.said) == list(range(100))  # exactly those, in order, before the notice
            start, replayed = Position.parse(since[room]).offset, len(back.said)
            assert offsets(back.said) == list(range(start + 1, start + 1 + replayed))
            assert back.notices[-1]["data"]["recovered"] is True and back.notices[-1]["data"]["replayed"] == replayed
            await burst(talkers[room], 3, "live")
            live = (await back.said_until(replayed + 3))[replayed:]
            assert numbers(live) == [0, 1, 2] and offsets(live) == [start + replayed + i for i in (1, 2, 3)]
        await stack.aclose()
