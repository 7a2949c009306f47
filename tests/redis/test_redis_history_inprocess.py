"""The history tests of the in-memory hub, again on a Redis hub (one real Redis, the application in this process)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from pyfly_ws.hub import HistoryPolicy, Hub, RedisBackend
from tests.core.test_hub_history import (
    MakeHub,
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
from tests.redis.redis_server import RedisServer, redis_server

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


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def make_hub(redis: RedisServer, request: pytest.FixtureRequest) -> MakeHub:
    """Redis hubs, each test under a prefix of its own (one Redis serves the module)."""
    prefix = f"t{abs(hash(request.node.nodeid)):x}"

    def make(size: int = 100, ttl: float = 60) -> Hub:
        return Hub(RedisBackend(redis.url, prefix=prefix), history={"h-*": HistoryPolicy(size=size, ttl=ttl)})

    return make


async def test_an_outage_shows_in_readiness_and_figures_and_resyncs_rooms_without_history(adapter_name: str) -> None:
    from pyfly_ws import Container, create_app, registry_of
    from pyfly_ws.testing import ASGIClient
    from tests.core.test_hub_history import frame, replied
    from tests.support.history_app import HistoryRooms, RawRooms
    from tests.support.metrics import Metrics, reaches

    with redis_server() as redis:
        metrics = Metrics()
        hub = Hub(RedisBackend(redis.url, retry_for=0.5), history={"h-*": HistoryPolicy(size=100, ttl=60)})
        container = Container()
        container.register_instance(hub)
        container.register(HistoryRooms)
        container.register(RawRooms)
        app = create_app(container, adapter_name, services=[hub], telemetry=metrics.telemetry)
        registry = registry_of(app)
        assert registry is not None
        async with ASGIClient(app) as client, client.connect("/history/plain") as plain:
            await frame(plain, "joined")
            async with client.connect("/history/h-1") as talker:
                top = (await frame(talker, "joined"))["data"]["position"]
                await talker.send_json({"type": "burst", "id": "b", "data": {"count": 4}})
                await replied(talker, "b")
            async with client.connect(f"/history/h-1?since={top}") as back:
                assert (await frame(back, "recovered"))["data"]["replayed"] == 4
            assert metrics.value("hub.replays", backend="redis") == 4
            assert hub.ready and registry.ready
            assert metrics.value("hub.unheard_rooms", backend="redis") == 0
            redis.stop()
            await reaches(metrics, "hub.outages", backend="redis")
            with anyio.fail_after(5):
                while hub.ready:  # noqa: ASYNC110  (a property, polled until the reader noticed too)
                    await anyio.sleep(0.01)
            assert not registry.ready
            assert metrics.value("hub.unheard_rooms", backend="redis") == 1  # the room "plain" has a member
            redis.start()
            assert (await frame(plain, "resync"))["data"] == {"room": "plain"}
            assert hub.ready and registry.ready
            assert metrics.value("hub.resyncs", backend="redis") == 1
            assert metrics.value("hub.unheard_rooms", backend="redis") == 0


async def test_raw_members_hear_of_a_resync_through_on_resync(adapter_name: str) -> None:
    """A raw endpoint's members get no push they did not ask for: the application's ``on_resync`` tells them."""
    from pyfly_ws.session.session import WebSocketSession
    from pyfly_ws.testing import ASGIClient
    from tests.support.history_app import build

    told: list[str] = []

    def on_resync(session: WebSocketSession, room: str) -> None:
        told.append(room)
        session.post(f"resync {room}")

    with redis_server() as redis:
        hub = Hub(RedisBackend(redis.url, retry_for=0.5), on_resync=on_resync)
        async with ASGIClient(build(hub, adapter_name)) as client, client.connect("/raw/plain") as ws:
            assert await ws.receive_text() == "joined None"
            redis.stop()
            with anyio.fail_after(5):
                while hub.ready:  # noqa: ASYNC110  (a property, polled until the reader noticed)
                    await anyio.sleep(0.01)
            redis.start()
            assert await ws.receive_text(timeout=15) == "resync plain"
            assert told == ["plain"]


async def test_a_room_whose_subscription_went_unconfirmed_is_reported_and_subscribed_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Never quietly deaf: a room Redis does not confirm shows in unheard_rooms, is logged and subscribed again."""
    import logging

    import pyfly_ws.hub.redis
    from pyfly_ws.testing import ASGIClient
    from tests.support.history_app import build

    monkeypatch.setattr(pyfly_ws.hub.redis, "HEARTBEAT", 1.0)
    caplog.set_level(logging.WARNING, "pyfly_ws.hub")
    with redis_server() as redis:
        hub = Hub(RedisBackend(redis.url))
        backend = hub.backend
        assert isinstance(backend, RedisBackend)
        async with (
            ASGIClient(build(hub)) as client,
            client.connect("/raw/kept") as kept,
            client.connect("/raw/deaf") as ws,
        ):
            assert await kept.receive_text() == "joined None"  # another room: the link stays subscribed
            assert await ws.receive_text() == "joined None"
            with anyio.fail_after(5):
                while backend.unheard_rooms:  # noqa: ASYNC110  (a property, polled until confirmed)
                    await anyio.sleep(0.01)
            pubsub = backend._pubsub
            assert pubsub is not None
            await pubsub.unsubscribe(backend._channel("deaf"))  # as if Redis had dropped it
            backend._heard.discard("deaf")
            unheard: int = backend.unheard_rooms  # (read again: mypy took it for the 0 of the loop above)
            assert unheard == 1 and not hub.ready
            with anyio.fail_after(10):
                while not hub.ready:  # noqa: ASYNC110  (a property, polled until subscribed again)
                    await anyio.sleep(0.05)
            assert "has not confirmed the subscription to 1 rooms (deaf); subscribing again" in caplog.text
            await ws.send_text("still heard")
            assert await ws.receive_text() == "still heard"
