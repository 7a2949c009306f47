"""The hub's figures with a real Redis on every adapter: publications, deliveries, an outage and the reconnection."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pyfly_ws import Container, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub, HubUnavailableError, RedisBackend
from pyfly_ws.testing import ASGIClient
from tests.redis.redis_server import RedisServer, redis_server
from tests.support.metrics import Metrics, reaches

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@rest_controller
class Rooms:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @websocket_mapping("/rooms/{room}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await self.hub.join(session, session.path_params["room"])
        await session.send_text("joined")
        async for text in session.iter_text():
            try:
                await self.hub.publish(session.path_params["room"], text)
            except HubUnavailableError:
                await session.send_text(f"unavailable:{text}")
            else:
                await session.send_text(f"published:{text}")


async def test_a_redis_outage_and_the_reconnection_are_counted(
    redis: RedisServer, adapter_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "pyfly_ws.hub")
    metrics = Metrics()
    hub = Hub(RedisBackend(redis.url, retry_for=0.5))
    container = Container()
    container.register_instance(hub)
    container.register(Rooms)
    app = create_app(container, adapter_name, services=[hub], telemetry=metrics.telemetry)
    async with ASGIClient(app) as client, client.connect("/rooms/ops") as ws:
        assert await ws.receive_text() == "joined"
        await ws.send_text("before")
        assert await ws.receive_text() == "before"  # delivered here first,
        assert await ws.receive_text() == "published:before"  # then published to Redis
        redis.stop()
        await ws.send_text("during")
        assert await ws.receive_text() == "during"  # the member in this process has it
        assert await ws.receive_text() == "unavailable:during"  # Redis did not take it
        assert metrics.value("hub.outages", backend="redis") == 1
        assert metrics.value("hub.reconnections", backend="redis") == 0
        redis.start()
        await reaches(metrics, "hub.reconnections", timeout=15, backend="redis")
    assert metrics.value("hub.publications", backend="redis") == 2
    assert metrics.value("hub.deliveries", backend="redis") == 2
    assert metrics.value("hub.outages", backend="redis") == 1
