"""Sharded pub/sub on a real three-master Redis Cluster, with redis-py's asyncio cluster client.

What the hub will stand on, proven before it is written:

* one ``RedisCluster.pubsub()`` (a ``ClusterPubSub``) ``SSUBSCRIBE``s channels owned by all three
  nodes: it keeps one connection per node (``node_pubsub_mapping``), and ``get_sharded_message``
  reads them; ``RedisCluster.spublish`` routes each message to the node owning its channel's slot;
* ``get_sharded_message()`` without ``target_node`` polls the nodes one after the other, each for
  ``timeout``: with ``timeout=None`` it blocks on one node while another has a message waiting;
  one reader per node (``target_node=``) does not;
* a Lua script (``register_script``, so ``EVALSHA``) bumps a room's counter, appends to its history
  stream and ``SPUBLISH``es to its channel in one step: the room's hash tag puts all three in one
  slot; a script may not ``SPUBLISH`` to a channel another node owns;
* a node killed and started again: reading from it raises ``ConnectionError`` (the other nodes'
  messages still come between those errors); once it is back, the next read reconnects and
  re-subscribes by itself, and what was published before that read is lost;
* with ``cluster-require-full-coverage yes`` (Redis's default) one dead master takes the cluster
  down for keys (``ClusterDownError``) but not for ``SPUBLISH``, and a client that meets
  ``ClusterDownError`` drops every pub/sub socket it has; with ``no`` the live nodes go on;
* plain per-node connections work too, if each channel is sent to the node owning its slot: the
  wrong node answers ``MOVED``, and one ``SSUBSCRIBE`` may name channels of one slot only.

Two redis-py traps met on the way: after a command that failed with ``ConnectionError``,
``RedisCluster.aclose()`` closes nothing (see ``cluster_client``); and while a master is down,
a script no live node has cached cannot be loaded by ``register_script`` (its ``SCRIPT LOAD``
goes to every master), while ``EVAL`` goes to the room's node only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pytest
import redis.asyncio
from redis.asyncio.cluster import ClusterNode, ClusterPubSub
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import ClusterDownError, ConnectionError, MovedError, ResponseError
from redis.retry import Retry

from tests.redis.redis_cluster import NODES, RedisCluster, redis_cluster

pytestmark = pytest.mark.anyio

ROOMS = [f"r{n}" for n in range(30)]
"""Thirty rooms: their hash tags fall in slots owned by each of the three nodes."""

PUBLISH = """
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local id = redis.call('XADD', KEYS[2], '*', 'seq', seq, 'data', ARGV[1])
local receivers = redis.call('SPUBLISH', KEYS[3], seq .. ':' .. ARGV[1])
return {seq, id, receivers}
"""
"""One publication: the room's counter, its history entry and its message, in one atomic step.

KEYS: the room's meta hash, history stream and channel (one hash tag: one slot). ARGV: the payload.
Returns the new sequence number, the stream entry's id and how many subscribers got the message.
"""

SPUBLISH_ARGV = "return redis.call('SPUBLISH', ARGV[1], ARGV[2])"
"""A script that publishes to a channel it was not given as a key (KEYS[1] only routes it)."""

Message = dict[str, Any]


def channel(room: str) -> str:
    return f"pyfly-ws:room:{{{room}}}"


def meta(room: str) -> str:
    return f"pyfly-ws:meta:{{{room}}}"


def history(room: str) -> str:
    return f"pyfly-ws:history:{{{room}}}"


def owner(cluster: RedisCluster, name: str) -> int:
    """The index of the node that owns ``name``'s slot, from the slot ranges the helper assigned."""
    slot = key_slot(name.encode())
    return next(index for index, (first, last) in enumerate(cluster.slots) if first <= slot <= last)


def rooms_on(cluster: RedisCluster, index: int) -> list[str]:
    return [room for room in ROOMS if owner(cluster, channel(room)) == index]


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[RedisCluster]:
    """A fresh three-master cluster for the test; ``indirect`` parameters are ``redis_cluster()``'s options."""
    options: dict[str, Any] = getattr(request, "param", {})
    with redis_cluster(**options) as running:
        yield running


@asynccontextmanager
async def cluster_client(cluster: RedisCluster, **options: Any) -> AsyncIterator[ClusterClient]:
    """An initialized asyncio cluster client (it learns the three nodes from the first one's URL)."""
    client = ClusterClient.from_url(cluster.url, decode_responses=True, **options)
    try:
        await client.initialize()
        yield client
    finally:
        await client.aclose()
        # After a command that failed with ConnectionError, the client flags itself for re-initialization, and
        # aclose() takes that flag for "never initialized" and closes nothing: close the nodes' connections here.
        await client.nodes_manager.aclose()
        await client.nodes_manager.aclose("startup_nodes")


@asynccontextmanager
async def sharded_pubsub(client: ClusterClient, *channels: str) -> AsyncIterator[ClusterPubSub]:
    pubsub = client.pubsub()
    try:
        await pubsub.ssubscribe(*channels)
        yield pubsub
    finally:
        await pubsub.aclose()


async def collect(pubsub: ClusterPubSub, count: int, kind: str = "smessage") -> list[Message]:
    """The next ``count`` messages of type ``kind`` (``smessage``, ``ssubscribe``...) within 10 s (others dropped)."""
    got: list[Message] = []
    with anyio.fail_after(10):
        while len(got) < count:
            message = await pubsub.get_sharded_message(timeout=0.01)
            if message is not None and message["type"] == kind:
                got.append(message)
    return got


async def cluster_command(cluster: RedisCluster, index: int, *args: str) -> Any:
    """``CLUSTER args...`` on node ``index``, on a plain connection (redis-py parses INFO and NODES into dicts)."""
    async with redis.asyncio.Redis(host="127.0.0.1", port=cluster.ports[index], decode_responses=True) as node:
        return await node.cluster(*args)


async def cluster_state(cluster: RedisCluster, index: int) -> str:
    """``cluster_state`` from node ``index``'s ``CLUSTER INFO``: ``ok`` or ``fail``."""
    return str((await cluster_command(cluster, index, "INFO"))["cluster_state"])


async def until_marked_failed(cluster: RedisCluster, dead: int) -> None:
    """Wait (15 s at most) until a live node flags node ``dead`` as ``fail``: the other masters agreed it is gone."""
    live = (dead + 1) % NODES
    with anyio.fail_after(15):
        while True:
            nodes = await cluster_command(cluster, live, "NODES")
            if "fail" in nodes[f"127.0.0.1:{cluster.ports[dead]}"]["flags"].split(","):
                return
            await anyio.sleep(0.05)


async def test_spublish_reaches_ssubscribe_on_all_three_nodes(cluster: RedisCluster) -> None:
    channels = [channel(room) for room in ROOMS]
    assert {owner(cluster, name) for name in channels} == set(range(NODES))
    with anyio.fail_after(30):
        async with cluster_client(cluster) as subscriber, cluster_client(cluster) as publisher:
            # The client's routing agrees with the slots the helper assigned.
            for name in channels:
                node = subscriber.get_node_from_key(name)
                assert node is not None
                assert node.port == cluster.ports[owner(cluster, name)]
            async with sharded_pubsub(subscriber, *channels) as pubsub:
                # One ClusterPubSub, one connection per node that owns a subscribed channel.
                assert sorted(pubsub.node_pubsub_mapping) == sorted(f"127.0.0.1:{port}" for port in cluster.ports)
                confirmed = await collect(pubsub, len(channels), "ssubscribe")
                assert sorted(message["channel"] for message in confirmed) == sorted(channels)
                for name in channels:
                    assert await publisher.spublish(name, f"hello {name}") == 1
                got = await collect(pubsub, len(channels))
                assert {message["channel"]: message["data"] for message in got} == {
                    name: f"hello {name}" for name in channels
                }


async def test_get_sharded_message_reads_the_nodes_in_turn(cluster: RedisCluster) -> None:
    """Without ``target_node`` one call reads the nodes one after the other; one reader per node waits on all."""
    first, second, third = (channel(rooms_on(cluster, index)[0]) for index in range(NODES))
    with anyio.fail_after(30):
        async with (
            cluster_client(cluster) as subscriber,
            cluster_client(cluster) as publisher,
            sharded_pubsub(subscriber, first, second, third) as pubsub,
        ):
            nodes: list[ClusterNode] = []
            for name in (first, second, third):
                node = subscriber.get_node_from_key(name)
                assert node is not None
                nodes.append(node)
                # target_node reads that node's connection only (and leaves the round robin where it is).
                confirmation = await pubsub.get_sharded_message(target_node=node, timeout=5)
                assert confirmation is not None
                assert (confirmation["type"], confirmation["channel"]) == ("ssubscribe", name)
            assert list(pubsub.node_pubsub_mapping) == [node.name for node in nodes]

            # A message waits on the second node; timeout=None blocks on the first node's connection.
            assert await publisher.spublish(second, "waiting") == 1
            with anyio.move_on_after(1) as blocked:
                await pubsub.get_sharded_message(timeout=None)  # type: ignore[arg-type]  # annotated float; None blocks
            assert blocked.cancelled_caught

            # One reader per node, each blocking on its own node, gets every message as it comes.
            send, receive = anyio.create_memory_object_stream[Message](100)

            async def read(node: ClusterNode) -> None:
                while True:
                    message = await pubsub.get_sharded_message(target_node=node, timeout=None)  # type: ignore[arg-type]
                    if message is not None:
                        await send.send(message)

            async with send, receive, anyio.create_task_group() as readers:
                for node in nodes:
                    readers.start_soon(read, node)
                assert (await receive.receive())["data"] == "waiting"
                for name in (first, second, third):
                    assert await publisher.spublish(name, f"now {name}") == 1
                    with anyio.fail_after(2):
                        message = await receive.receive()
                    assert (message["channel"], message["data"]) == (name, f"now {name}")
                readers.cancel_scope.cancel()


async def test_a_script_counts_records_and_spublishes_in_one_step(cluster: RedisCluster) -> None:
    with anyio.fail_after(30):
        async with (
            cluster_client(cluster) as subscriber,
            cluster_client(cluster) as publisher,
            sharded_pubsub(subscriber, *(channel(room) for room in ROOMS)) as pubsub,
        ):
            await collect(pubsub, len(ROOMS), "ssubscribe")
            script = publisher.register_script(PUBLISH)
            ids: dict[tuple[str, int], str] = {}
            for seq in (1, 2):
                for room in ROOMS:
                    # redis-py routes EVALSHA by its keys: all three share the room's slot.
                    result = await script(keys=[meta(room), history(room), channel(room)], args=[f"hi {room}"])
                    assert result[0] == seq
                    assert result[2] == 1
                    ids[room, seq] = result[1]
            # SCRIPT EXISTS asks every master: the script was loaded on all three.
            assert await publisher.script_exists(script.sha) == [True]

            got = await collect(pubsub, 2 * len(ROOMS))
            for room in ROOMS:
                assert [message["data"] for message in got if message["channel"] == channel(room)] == [
                    f"1:hi {room}",
                    f"2:hi {room}",
                ]
                assert await publisher.hget(meta(room), "seq") == "2"
                entries = await publisher.xrange(history(room))
                assert entries == [
                    (ids[room, 1], {"seq": "1", "data": f"hi {room}"}),
                    (ids[room, 2], {"seq": "2", "data": f"hi {room}"}),
                ]


async def test_a_script_spublishes_only_to_channels_its_node_owns(cluster: RedisCluster) -> None:
    here, elsewhere = rooms_on(cluster, 0)[0], rooms_on(cluster, 1)[0]
    with anyio.fail_after(30):
        async with (
            cluster_client(cluster) as subscriber,
            cluster_client(cluster) as publisher,
            sharded_pubsub(subscriber, channel(here), channel(elsewhere)) as pubsub,
        ):
            await collect(pubsub, 2, "ssubscribe")
            script = publisher.register_script(SPUBLISH_ARGV)
            # The channel need not be a key of the script when it is in the script's slot...
            assert await script(keys=[meta(here)], args=[channel(here), "in slot"]) == 1
            # ...but a channel another node owns is refused, as any other key would be.
            with pytest.raises(ResponseError, match="non local key"):
                await script(keys=[meta(here)], args=[channel(elsewhere), "elsewhere"])
            [message] = await collect(pubsub, 1)
            assert (message["channel"], message["data"]) == (channel(here), "in slot")


async def test_a_sharded_subscriber_across_a_node_restart(cluster: RedisCluster) -> None:
    """The dead node's connection raises on read; back, the next read re-subscribes; the gap is lost."""
    dead = 1
    gone = [channel(room) for room in rooms_on(cluster, dead)]
    alive = [channel(room) for room in ROOMS if channel(room) not in gone]
    dead_at = f"127.0.0.1:{cluster.ports[dead]}"
    with anyio.fail_after(60):
        async with (
            cluster_client(cluster) as subscriber,
            cluster_client(cluster) as publisher,
            sharded_pubsub(subscriber, *gone, *alive) as pubsub,
        ):
            await collect(pubsub, len(ROOMS), "ssubscribe")
            script = publisher.register_script(PUBLISH)
            # Every room on the dead-to-be node publishes once: counter at 1, the script loaded on every master.
            for room in rooms_on(cluster, dead):
                assert (await script(keys=[meta(room), history(room), channel(room)], args=["before"]))[0] == 1
            assert await publisher.script_exists(script.sha) == [True]
            assert {message["data"] for message in await collect(pubsub, len(gone))} == {"1:before"}
            cluster.kill(dead)

            # Reading the dead node's connection raises; nothing reconnects in the background.
            with anyio.fail_after(10):
                while True:
                    try:
                        await pubsub.get_sharded_message(timeout=0.01)
                    except ConnectionError as error:
                        refused = error
                        break
            assert dead_at in str(refused)
            # The caller that catches ConnectionError and reads again still gets the live nodes' messages.
            errors = 0
            for name in alive:
                assert await publisher.spublish(name, "during") == 1
                with anyio.fail_after(10):
                    while True:
                        try:
                            message = await pubsub.get_sharded_message(timeout=0.01)
                        except ConnectionError:
                            errors += 1
                            continue
                        if message is not None and message["type"] == "smessage":
                            assert (message["channel"], message["data"]) == (name, "during")
                            break
            assert errors > 0
            # Publishing to the dead node's channels raises, once the client's retries are spent.
            with pytest.raises(ConnectionError):
                await publisher.spublish(gone[0], "nobody")

            await anyio.to_thread.run_sync(cluster.start, dead)
            # Back with the same id and slots, empty (nothing persisted), and without the script loaded.
            assert await publisher.script_exists(script.sha) == [False]
            # No subscriber there yet: the subscriber re-subscribes only when it next reads that node.
            assert await publisher.spublish(gone[0], "lost") == 0
            resubscribed = await collect(pubsub, len(gone), "ssubscribe")
            assert sorted(message["channel"] for message in resubscribed) == sorted(gone)

            # EVALSHA meets NOSCRIPT there, and redis-py loads the script again by itself; the counters start over.
            for room in rooms_on(cluster, dead):
                assert (await script(keys=[meta(room), history(room), channel(room)], args=["back"]))[::2] == [1, 1]
            got = await collect(pubsub, len(gone))
            assert sorted(message["channel"] for message in got) == sorted(gone)
            assert {message["data"] for message in got} == {"1:back"}  # "lost" never came


@pytest.mark.parametrize("cluster", [{"node_timeout_ms": 1000}], indirect=True)
async def test_one_master_down_takes_keys_down_but_not_spublish(cluster: RedisCluster) -> None:
    """``cluster-require-full-coverage yes``: keys fail everywhere, SPUBLISH goes on; the client drops its pubsub."""
    dead = 2
    room = rooms_on(cluster, 0)[0]
    with anyio.fail_after(60):
        # retries=0: a ClusterDownError is raised after one 0.25 s pause instead of 3.5 s of retries.
        async with (
            cluster_client(cluster, retry=Retry(NoBackoff(), 0)) as shared,
            cluster_client(cluster) as publisher,
            sharded_pubsub(shared, *(channel(room) for room in ROOMS)) as pubsub,
        ):
            await collect(pubsub, len(ROOMS), "ssubscribe")
            script = shared.register_script(PUBLISH)
            cluster.kill(dead)
            await until_marked_failed(cluster, dead)
            assert await cluster_state(cluster, 0) == "fail"

            # cluster-allow-pubsubshard-when-down (yes by default): a live node still delivers SPUBLISH.
            assert await publisher.spublish(channel(room), "still") == 1
            [message] = await collect(pubsub, 1)
            assert message["data"] == "still"
            # Keys are refused on the live nodes too.
            with pytest.raises(ClusterDownError):
                await script(keys=[meta(room), history(room), channel(room)], args=["refused"])
            # And the client that met ClusterDownError closed every node connection, its pubsub's among them.
            connections = [node.connection for node in pubsub.node_pubsub_mapping.values()]
            assert not any(connection is not None and connection.is_connected for connection in connections)
            assert await publisher.spublish(channel(room), "unheard") == 0

            await anyio.to_thread.run_sync(cluster.start, dead)
            result = await script(keys=[meta(room), history(room), channel(room)], args=["again"])
            assert result[0] == 1
            # Its next reads reconnect to every node and subscribe again to every channel.
            resubscribed = await collect(pubsub, len(ROOMS), "ssubscribe")
            assert sorted(message["channel"] for message in resubscribed) == sorted(channel(room) for room in ROOMS)
            assert await publisher.spublish(channel(room), "heard") == 1
            [message] = await collect(pubsub, 1)
            assert message["data"] == "heard"


@pytest.mark.parametrize("cluster", [{"node_timeout_ms": 1000, "full_coverage": False}], indirect=True)
async def test_without_full_coverage_the_live_nodes_go_on(cluster: RedisCluster) -> None:
    """``cluster-require-full-coverage no``: only the dead node's slots are out; a script not yet loaded needs EVAL."""
    dead = 2
    room, gone = rooms_on(cluster, 0)[0], rooms_on(cluster, dead)[0]
    keys = [meta(room), history(room), channel(room)]
    with anyio.fail_after(60):
        async with (
            cluster_client(cluster) as shared,
            sharded_pubsub(shared, channel(room)) as pubsub,
        ):
            await collect(pubsub, 1, "ssubscribe")
            script = shared.register_script(PUBLISH)
            cluster.kill(dead)
            await until_marked_failed(cluster, dead)
            assert await cluster_state(cluster, 0) == "ok"

            # EVALSHA meets NOSCRIPT, and redis-py's SCRIPT LOAD goes to every master: the dead one refuses it.
            with pytest.raises(ConnectionError):
                await script(keys=keys, args=["unloaded"])
            # EVAL goes to the room's node only (and caches the script there), then EVALSHA works.
            assert (await shared.eval(PUBLISH, len(keys), *keys, "on"))[::2] == [1, 1]
            assert (await script(keys=keys, args=["on"]))[::2] == [2, 1]
            assert [message["data"] for message in await collect(pubsub, 2)] == ["1:on", "2:on"]
            # The dead node's rooms are out.
            with pytest.raises(ConnectionError):
                await shared.eval(PUBLISH, 3, meta(gone), history(gone), channel(gone), "off")
            await anyio.to_thread.run_sync(cluster.start, dead)


async def test_plain_connections_routed_by_slot(cluster: RedisCluster) -> None:
    """Without ClusterPubSub: one plain connection per master, each channel sent where its slot lives."""
    # The slot map as a client reads it (CLUSTER SLOTS from any node), and the slots as Redis computes them.
    ranges = [(int(entry[0]), int(entry[1]), int(entry[2][1])) for entry in await cluster_command(cluster, 0, "SLOTS")]
    assert sorted(ranges) == [(a, b, port) for (a, b), port in zip(cluster.slots, cluster.ports, strict=True)]
    for room in ROOMS:
        assert await cluster_command(cluster, 0, "KEYSLOT", channel(room)) == key_slot(channel(room).encode())

    def port_of(name: str) -> int:
        slot = key_slot(name.encode())
        return next(port for a, b, port in ranges if a <= slot <= b)

    async with AsyncExitStack() as stack:
        publisher = await stack.enter_async_context(cluster_client(cluster))
        with anyio.fail_after(30):
            pubsubs: dict[int, redis.asyncio.client.PubSub] = {}
            for port in cluster.ports:
                node = redis.asyncio.Redis(host="127.0.0.1", port=port, decode_responses=True)
                await stack.enter_async_context(node)
                pubsubs[port] = await stack.enter_async_context(node.pubsub(ignore_subscribe_messages=True))
            for room in ROOMS:
                await pubsubs[port_of(channel(room))].ssubscribe(channel(room))
            for room in ROOMS:
                assert await publisher.spublish(channel(room), room) == 1
            got: list[str] = []
            while len(got) < len(ROOMS):
                for port, pubsub in pubsubs.items():
                    message = await pubsub.get_message(timeout=0.01)
                    if message is not None:
                        assert port_of(message["channel"]) == port
                        got.append(message["data"])
            assert sorted(got) == sorted(ROOMS)

            # The wrong node answers MOVED, naming the slot and its owner; the refused channel stays on the books.
            room = rooms_on(cluster, 1)[0]
            wrong = pubsubs[cluster.ports[0]]
            await wrong.ssubscribe(channel(room))
            with pytest.raises(MovedError) as moved:
                await wrong.get_message(timeout=5)
            assert (moved.value.slot_id, moved.value.port) == (key_slot(channel(room).encode()), cluster.ports[1])
            assert channel(room) in wrong.shard_channels
            # One SSUBSCRIBE names channels of one slot only, even when one node owns both.
            a, b = rooms_on(cluster, 2)[:2]
            right = pubsubs[cluster.ports[2]]
            await right.ssubscribe(channel(a), channel(b))
            with pytest.raises(ResponseError, match="hash to the same slot"):
                await right.get_message(timeout=5)
