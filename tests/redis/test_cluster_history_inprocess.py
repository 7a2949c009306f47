"""The history tests of the in-memory hub, again on a Redis Cluster hub (three real masters, this process).

Beside them: rooms spread over the three nodes' slots, names with braces, counts across slots, and a node
killed and started again (persisting its streams): the rooms with history on it lose nothing, the others
are told to resync, and the outage counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import anyio
import pytest
import redis

from pyfly_ws.hub import HistoryPolicy, Hub, Position, RedisClusterBackend
from pyfly_ws.hub.cluster import room_tag, tag_room
from tests.core.test_hub_history import MakeHub
from tests.redis.redis_cluster import NODES, RedisCluster, redis_cluster
from tests.redis.test_redis_history_inprocess import (
    client,
    test_a_member_rejoining_gets_exactly_what_it_missed_then_live,
    test_a_position_of_another_history_or_none_at_all_reports_the_epoch,
    test_a_position_trimmed_away_reports_a_gap_and_replays_nothing,
    test_a_rejoin_from_the_top_replays_nothing_and_goes_live,
    test_a_rejoin_while_the_room_is_busy_loses_nothing_and_repeats_nothing,
    test_a_room_without_history_says_so,
    test_each_publication_carries_the_next_position_before_its_data,
    test_presence_counts_an_identity_once_and_tells_the_room_who_came_and_went,
    test_publications_older_than_the_ttl_are_not_replayed,
    test_raw_publications_get_their_position_where_the_mark_is,
    test_the_sender_left_out_is_left_out_of_a_stored_publication,
)

pytestmark = pytest.mark.anyio

__all__ = [
    "client",
    "test_a_member_rejoining_gets_exactly_what_it_missed_then_live",
    "test_a_position_of_another_history_or_none_at_all_reports_the_epoch",
    "test_a_position_trimmed_away_reports_a_gap_and_replays_nothing",
    "test_a_rejoin_from_the_top_replays_nothing_and_goes_live",
    "test_a_rejoin_while_the_room_is_busy_loses_nothing_and_repeats_nothing",
    "test_a_room_without_history_says_so",
    "test_each_publication_carries_the_next_position_before_its_data",
    "test_presence_counts_an_identity_once_and_tells_the_room_who_came_and_went",
    "test_publications_older_than_the_ttl_are_not_replayed",
    "test_raw_publications_get_their_position_where_the_mark_is",
    "test_the_sender_left_out_is_left_out_of_a_stored_publication",
]

POLICY = HistoryPolicy(size=1000, ttl=60)
ROOMS = [f"r{n}" for n in range(36)]
"""Thirty-six rooms: their hash tags fall in slots owned by each of the three nodes."""
BRACED = ["{", "}", "{}", "a{b}c", "}x{", "%7B", "%", "", "é{ü}"]
"""Names whose braces would change the hash tag if they were not escaped."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    with redis_cluster() as running:
        yield running


@pytest.fixture
def make_hub(cluster: RedisCluster, request: pytest.FixtureRequest) -> MakeHub:
    """Redis Cluster hubs, each test under a prefix of its own (one cluster serves the module)."""
    prefix = f"t{abs(hash(request.node.nodeid)):x}"

    def make(size: int = 100, ttl: float = 60) -> Hub:
        return Hub(RedisClusterBackend(cluster.url, prefix=prefix), history={"h-*": HistoryPolicy(size=size, ttl=ttl)})

    return make


class Recorder:
    """A backend's receiver: what it handed over, room by room."""

    def __init__(self) -> None:
        self.plain: dict[str, list[bytes]] = {}
        self.stored: dict[str, list[tuple[Position, bytes]]] = {}
        self.resyncs: list[str] = []
        self.presence: list[tuple[str, str, bool]] = []

    def history(self, room: str) -> HistoryPolicy | None:
        return POLICY if room.startswith("h") else None

    def receive(self, room: str, envelope: bytes) -> None:
        self.plain.setdefault(room, []).append(envelope)

    def receive_stored(self, room: str, position: Position, envelope: bytes) -> None:
        self.stored.setdefault(room, []).append((position, envelope))

    def resync(self, room: str) -> None:
        self.resyncs.append(room)

    def presence_changed(self, room: str, identity: str, present: bool) -> None:
        self.presence.append((room, identity, present))


def owner(cluster: RedisCluster, name: str) -> int:
    """The node owning ``name``'s slot, as the cluster itself computes the slot (``CLUSTER KEYSLOT``)."""
    with redis.Redis(host="127.0.0.1", port=cluster.ports[0]) as node:
        slot = int(node.execute_command("CLUSTER", "KEYSLOT", name))
    return next(index for index, (first, last) in enumerate(cluster.slots) if first <= slot <= last)


def keyslot(cluster: RedisCluster, name: str) -> int:
    with redis.Redis(host="127.0.0.1", port=cluster.ports[0]) as node:
        return int(node.execute_command("CLUSTER", "KEYSLOT", name))


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:  # noqa: ASYNC109
    """Poll ``condition`` (backends' state, no event to wait on) until it holds."""
    with anyio.fail_after(timeout):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.02)


def test_every_key_and_channel_of_a_room_shares_its_slot_whatever_its_name(cluster: RedisCluster) -> None:
    backend = RedisClusterBackend(cluster.url, prefix="p")
    for room in [*ROOMS, *BRACED]:
        assert tag_room(room_tag(room)) == room
        names = [backend._channel(room), backend._members_key(room), backend._meta_key(room)]
        names.append(backend._history_key(room))
        assert {keyslot(cluster, name) for name in names} == {keyslot(cluster, f"{{{room_tag(room)}}}")}
        assert backend._room_of(backend._channel(room).encode()) == room
    # Distinct names, distinct tags: no two rooms share keys.
    assert len({room_tag(room) for room in [*ROOMS, *BRACED]}) == len(ROOMS) + len(BRACED)
    with pytest.raises(ValueError, match="braces"):
        RedisClusterBackend(cluster.url, prefix="a{b}")


def test_the_url_forms(cluster: RedisCluster) -> None:
    hub = Hub(f"redis+cluster://127.0.0.1:{cluster.ports[0]},127.0.0.1:{cluster.ports[1]}/0")
    assert isinstance(hub.backend, RedisClusterBackend)
    assert hub.backend.urls == [f"redis://127.0.0.1:{cluster.ports[0]}/0", f"redis://127.0.0.1:{cluster.ports[1]}/0"]
    assert RedisClusterBackend(cluster.urls).urls == cluster.urls
    secret = RedisClusterBackend("redis+cluster://user:pw@127.0.0.1:7000")
    assert secret.urls == ["redis://user:pw@127.0.0.1:7000"]
    assert "pw" not in repr(secret)
    with pytest.raises(ValueError, match="redis://"):
        RedisClusterBackend("unix:///tmp/redis.sock")


async def test_rooms_on_all_three_nodes_get_their_publications_and_counts(cluster: RedisCluster) -> None:
    rooms = [*ROOMS, *(f"h{room}" for room in ROOMS), *BRACED, *(f"h{room}" for room in BRACED)]
    spread = {owner(cluster, RedisClusterBackend(cluster.url, prefix="s")._channel(room)) for room in ROOMS}
    assert spread == set(range(NODES))
    listener, talker = Recorder(), Recorder()
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tasks:
            hearing = RedisClusterBackend(cluster.url, prefix="s")
            speaking = RedisClusterBackend(cluster.urls, prefix="s")
            await hearing.start(listener, tasks)
            await speaking.start(talker, tasks)
            tops = {room: await hearing.subscribe(room) for room in rooms}
            assert {room for room, top in tops.items() if top is not None} == {r for r in rooms if r.startswith("h")}
            assert hearing.unheard_rooms == 0
            assert sorted(hearing._links) == sorted(f"127.0.0.1:{port}" for port in cluster.ports)
            await until(lambda: hearing.unheard_rooms == 0)
            for n in range(3):
                for room in rooms:
                    if room.startswith("h"):
                        await speaking.store(room, f"{room}:{n}".encode(), POLICY, -1)
                    else:
                        await speaking.publish(room, f"{room}:{n}".encode())
            for room in rooms:
                await speaking.add_members(room, 2)
                await hearing.add_members(room, 1)

            def complete() -> bool:
                heard = sum(len(v) for v in listener.plain.values()) + sum(len(v) for v in listener.stored.values())
                return heard == 3 * len(rooms)

            await until(complete)
            for room in rooms:
                expected = [f"{room}:{n}".encode() for n in range(3)]
                if room.startswith("h"):
                    top = tops[room]
                    assert top is not None
                    assert [position.offset for position, _ in listener.stored[room]] == [1, 2, 3]
                    assert [envelope[-len(expected[0]) :] for _, envelope in listener.stored[room]] == expected
                    assert all(position.epoch == top.epoch for position, _ in listener.stored[room])
                else:
                    assert listener.plain[room] == expected
                assert await speaking.count(room) == 3  # per-key and cross-slot calls alike
            assert listener.resyncs == []
            await speaking.stop()
            assert await hearing.count(ROOMS[0]) == 1
            await hearing.stop()
            tasks.cancel_scope.cancel()


async def test_a_node_killed_and_restarted_loses_nothing_of_rooms_with_history() -> None:
    """Its rooms with history catch up from their streams (persisted), the others resync; one outage."""
    with redis_cluster(persistent=True) as cluster:
        backend = RedisClusterBackend(cluster.url, prefix="k")
        dead = 1
        rooms = [*(f"h{room}" for room in ROOMS), *ROOMS]
        on_dead = [room for room in rooms if owner(cluster, backend._channel(room)) == dead]
        plain_on_dead = [room for room in on_dead if not room.startswith("h")]
        assert plain_on_dead and len(plain_on_dead) < len(on_dead) < len(rooms) - len(ROOMS)
        listener, talker = Recorder(), Recorder()
        with anyio.fail_after(90):
            async with anyio.create_task_group() as tasks:
                hearing = RedisClusterBackend(cluster.url, prefix="k", retry_for=1)
                speaking = RedisClusterBackend(cluster.url, prefix="k", retry_for=10)
                await hearing.start(listener, tasks)
                await speaking.start(talker, tasks)
                for room in rooms:
                    await hearing.subscribe(room)
                sent: dict[str, int] = dict.fromkeys(rooms, 0)

                async def say(room: str) -> None:
                    sent[room] += 1
                    if room.startswith("h"):
                        await speaking.store(room, f"{room}:{sent[room]}".encode(), POLICY, -1)
                    else:
                        await speaking.publish(room, f"{room}:{sent[room]}".encode())

                for _ in range(5):
                    for room in rooms:
                        await say(room)
                await until(lambda: all(len(listener.stored.get(f"h{room}", [])) == 5 for room in ROOMS))

                cluster.kill(dead)
                await until(lambda: hearing.unheard_rooms == len(on_dead))
                assert hearing.outages == 1
                assert not listener.resyncs
                async with anyio.create_task_group() as restart:
                    restart.start_soon(anyio.to_thread.run_sync, partial(cluster.start, dead))
                    # Published while the node comes back: some before the listener subscribes there again.
                    for _ in range(5):
                        for room in rooms:
                            if room in on_dead and room.startswith("h"):
                                await say(room)
                        await anyio.sleep(0.05)
                for _ in range(5):
                    for room in rooms:
                        await say(room)
                await until(lambda: hearing.unheard_rooms == 0, 30)

                def complete() -> bool:
                    return all(len(listener.stored.get(room, [])) == sent[room] for room in rooms if room[0] == "h")

                await until(complete, 30)
                for room in rooms:
                    if room.startswith("h"):
                        got = listener.stored[room]
                        assert [position.offset for position, _ in got] == list(range(1, sent[room] + 1))
                        assert [envelope.rpartition(b":")[2] for _, envelope in got] == [
                            str(n).encode() for n in range(1, sent[room] + 1)
                        ]
                        assert len({position.epoch for position, _ in got}) == 1  # the history survived
                last = {room: [f"{room}:{sent[room]}".encode()] for room in ROOMS}
                await until(lambda: all(listener.plain.get(room, [])[-1:] == last[room] for room in ROOMS))
                assert sorted(listener.resyncs) == sorted(plain_on_dead)
                assert (hearing.outages, hearing.reconnections) == (1, 1)
                await speaking.stop()
                await hearing.stop()
                tasks.cancel_scope.cancel()


async def test_a_node_outage_shows_in_readiness_and_figures_and_resyncs_its_rooms_without_history(
    adapter_name: str,
) -> None:
    from pyfly_ws import Container, create_app, registry_of
    from pyfly_ws.testing import ASGIClient
    from tests.core.test_hub_history import frame, replied
    from tests.support.history_app import HistoryRooms, RawRooms
    from tests.support.metrics import Metrics, reaches

    with redis_cluster(persistent=True) as cluster:
        names = RedisClusterBackend(cluster.url)
        dead = owner(cluster, names._channel("plain"))
        metrics = Metrics()
        hub = Hub(RedisClusterBackend(cluster.url, retry_for=0.5), history={"h-*": HistoryPolicy(size=100, ttl=60)})
        container = Container()
        container.register_instance(hub)
        container.register(HistoryRooms)
        container.register(RawRooms)
        app = create_app(container, adapter_name, services=[hub], telemetry=metrics.telemetry)
        registry = registry_of(app)
        assert registry is not None
        history_room = next(f"h-{n}" for n in range(100) if owner(cluster, names._channel(f"h-{n}")) == dead)
        with anyio.fail_after(60):
            async with ASGIClient(app) as client, client.connect("/history/plain") as plain:
                await frame(plain, "joined")
                async with client.connect(f"/history/{history_room}") as talker:
                    top = (await frame(talker, "joined"))["data"]["position"]
                    await talker.send_json({"type": "burst", "id": "b", "data": {"count": 4}})
                    await replied(talker, "b")
                async with client.connect(f"/history/{history_room}?since={top}") as back:
                    assert (await frame(back, "recovered"))["data"]["replayed"] == 4
                assert metrics.value("hub.replays", backend="redis-cluster") == 4
                assert hub.ready and registry.ready
                assert metrics.value("hub.unheard_rooms", backend="redis-cluster") == 0
                cluster.kill(dead)
                await reaches(metrics, "hub.outages", backend="redis-cluster")
                await until(lambda: not hub.ready, 5)
                assert not registry.ready
                assert metrics.value("hub.unheard_rooms", backend="redis-cluster") == 1  # "plain" has a member
                await anyio.to_thread.run_sync(cluster.start, dead)
                with anyio.fail_after(20):
                    assert (await plain.receive_json()) == {"type": "resync", "data": {"room": "plain"}}
                await until(lambda: hub.ready, 10)
                assert registry.ready
                assert metrics.value("hub.resyncs", backend="redis-cluster") == 1
                assert metrics.value("hub.unheard_rooms", backend="redis-cluster") == 0
                # The history survived the restart: a rejoin from the first position gets the four again.
                async with client.connect(f"/history/{history_room}?since={top}") as again:
                    assert (await frame(again, "recovered"))["data"]["replayed"] == 4
