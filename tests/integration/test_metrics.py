"""Metrics with the real OpenTelemetry SDK on every adapter: what each way a session lives and ends shows.

Each test builds the application with ``telemetry=Telemetry(meter_provider=...)``
over an SDK meter provider whose in-memory reader collects what the
instruments report, then drives sessions through the adapter (in-process, and
over uvicorn for the Prometheus page).
"""

from __future__ import annotations

import string
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from pyfly_ws import (
    HandshakeView,
    Limits,
    Prometheus,
    Reject,
    WebSocketSession,
    create_app,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.testing import ASGIClient, HandshakeRefused
from tests.support.drain import Held
from tests.support.metrics import Metrics, reaches, value_of
from tests.support.server import serve

pytestmark = pytest.mark.anyio

ECHO = "/echo/{room}"


@rest_controller
class Echo:
    @websocket_mapping(ECHO)
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/small", limits=Limits(max_message_size=16))
    async def small(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/quiet", limits=Limits(idle_timeout=0.2))
    async def quiet(self, session: WebSocketSession) -> None:
        await session.accept()
        async for _ in session.iter_text():
            pass

    @websocket_mapping("/bye")
    async def bye(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4000, "bye")


def flood(overflow: Any) -> Any:
    """A controller whose endpoint posts 64 messages at once to a client that reads none (a queue of 2)."""

    @rest_controller
    class Flood:
        @websocket_mapping("/flood", limits=Limits(send_queue=2, overflow=overflow))
        async def flood(self, session: WebSocketSession) -> None:
            await session.accept()
            for n in range(64):
                session.post(f"m{n}")
                await anyio.lowlevel.checkpoint()
            async for _ in session.iter_text():
                pass

    return Flood


@rest_controller
@request_mapping("/chat")
@websocket_mapping("/{room}")
class Chat:
    @message_mapping("say")
    async def say(self, data: str) -> str:
        return data.upper()


def points(metrics: Metrics, name: str) -> list[tuple[dict[str, Any], Any]]:
    return metrics.collect().get(f"pyfly_ws.{name}", [])


async def test_two_messages_and_a_client_close(adapter_name: str) -> None:
    metrics = Metrics()
    app = create_app(Echo, adapter_name, telemetry=metrics.telemetry)
    async with ASGIClient(app) as client:
        async with client.connect("/echo/kitchen") as ws:
            for text in ("one", "zwei"):
                await ws.send_text(text)
                assert await ws.receive_text() == text
            assert metrics.value("sessions.active", endpoint=ECHO) == 1
            await ws.close(1000)
        await reaches(metrics, "closes", endpoint=ECHO, code=1000, initiator="client")
    found = metrics.collect()
    assert value_of(found, "sessions.active", {"endpoint": ECHO}) == 0
    assert value_of(found, "messages", {"endpoint": ECHO, "direction": "in"}) == 2
    assert value_of(found, "messages", {"endpoint": ECHO, "direction": "out"}) == 2
    assert value_of(found, "message.size", {"endpoint": ECHO, "direction": "in"}) == 7
    assert value_of(found, "closes", {"endpoint": ECHO, "code": 1000, "initiator": "client"}) == 1
    assert value_of(found, "handshakes", {"endpoint": ECHO, "outcome": "accepted"}) == 1
    count, seconds = value_of(found, "session.duration", {"endpoint": ECHO})
    assert count == 1 and 0 < seconds < 5


async def test_a_cross_origin_handshake_is_counted_as_refused_for_its_origin(adapter_name: str) -> None:
    metrics = Metrics()
    app = create_app(Echo, adapter_name, telemetry=metrics.telemetry)
    async with ASGIClient(app) as client:
        with pytest.raises(HandshakeRefused):
            async with client.connect("/echo/x", headers={"origin": "http://elsewhere.example"}):
                pass
    assert metrics.value("handshakes", endpoint=ECHO, outcome="refused", reason="origin") == 1
    assert metrics.value("handshakes", endpoint=ECHO, outcome="accepted") == 0


async def test_a_guard_refusal_limit_closures_and_a_server_close_are_counted(adapter_name: str) -> None:
    def no_entry(view: HandshakeView) -> None:
        raise Reject(403, "no")

    metrics = Metrics()
    guarded = create_app(Echo, adapter_name, guards=[no_entry], telemetry=metrics.telemetry)
    async with ASGIClient(guarded) as client:
        with pytest.raises(HandshakeRefused):
            async with client.connect("/echo/x"):
                pass
    assert metrics.value("handshakes", endpoint=ECHO, outcome="refused", reason="guard") == 1

    metrics = Metrics()
    app = create_app(Echo, adapter_name, telemetry=metrics.telemetry)
    async with ASGIClient(app) as client, client.connect("/small") as ws:
        await ws.send_text("x" * 100)
        assert (await ws.wait_closed())[0] == 1009
    await reaches(metrics, "closes", endpoint="/small", code=1009, initiator="limit")
    async with ASGIClient(create_app(Echo, adapter_name, telemetry=metrics.telemetry)) as client:
        async with client.connect("/quiet") as ws:  # closed by the timekeeper, beside the handler
            assert (await ws.wait_closed())[0] == 1001
        async with client.connect("/bye") as ws:
            assert await ws.wait_closed() == (4000, "bye")
    await reaches(metrics, "closes", endpoint="/quiet", code=1001, initiator="limit")
    await reaches(metrics, "closes", endpoint="/bye", code=4000, initiator="server")


async def test_a_drain_closes_with_1001_and_refuses_new_handshakes(adapter_name: str) -> None:
    metrics = Metrics()
    app = create_app(Held, adapter_name, telemetry=metrics.telemetry)
    async with ASGIClient(app) as client:
        async with client.connect("/held") as ws:
            assert await ws.receive() == "ready"
            await client.shutdown()
            assert await ws.wait_closed() == (1001, "server shutting down")
        with pytest.raises(HandshakeRefused):
            async with client.connect("/held"):
                pass
    assert metrics.value("closes", endpoint="/held", code=1001, initiator="drain") == 1
    assert metrics.value("handshakes", endpoint="/held", outcome="refused", reason="drain") == 1
    assert metrics.value("sessions.active", endpoint="/held") == 0


@pytest.mark.parametrize("overflow", ["close", "drop_oldest"])
async def test_a_slow_client_is_counted(adapter_name: str, overflow: str) -> None:
    metrics = Metrics()
    app = create_app(flood(overflow), adapter_name, telemetry=metrics.telemetry)
    client = ASGIClient(app)
    client.buffer = 1  # the client takes one message, then reads nothing: a full TCP window
    async with client, client.connect("/flood") as ws:
        if overflow == "close":
            # counted once the handler ends (the close frame waits behind the full window)
            await reaches(metrics, "slow_client.closes", endpoint="/flood", limit="send_queue")
            assert metrics.value("closes", endpoint="/flood", code=1013, initiator="limit") == 1
            assert (await ws.wait_closed())[0] == 1013
        else:
            await reaches(metrics, "send_queue.dropped", 50, endpoint="/flood", policy="drop_oldest")
            assert metrics.value("slow_client.closes", endpoint="/flood", limit="send_queue") == 0
    if overflow == "close":
        assert metrics.value("send_queue.dropped", endpoint="/flood", policy="close") >= 1


@rest_controller
class Stalled:
    @websocket_mapping("/stalled", limits=Limits(send_timeout=0.3))
    async def stalled(self, session: WebSocketSession) -> None:
        await session.accept()
        for n in range(64):
            await session.send_text(f"m{n}")


async def test_a_slow_client_past_send_timeout_is_counted(adapter_name: str) -> None:
    metrics = Metrics()
    client = ASGIClient(create_app(Stalled, adapter_name, telemetry=metrics.telemetry))
    client.buffer = 1  # the client takes one message, then reads nothing: the second write never ends
    async with client, client.connect("/stalled") as ws:
        await reaches(metrics, "slow_client.closes", endpoint="/stalled", limit="send_timeout")
        assert metrics.value("closes", endpoint="/stalled", code=1013, initiator="limit") == 1
        assert metrics.value("slow_client.closes", endpoint="/stalled", limit="send_queue") == 0
        assert (await ws.wait_closed())[0] == 1013


async def test_message_level_endpoints_count_by_declared_type(adapter_name: str) -> None:
    metrics = Metrics()
    app = create_app(Chat, adapter_name, telemetry=metrics.telemetry)
    async with ASGIClient(app) as client, client.connect("/chat/lobby") as ws:
        await ws.send_json({"type": "say", "id": 1, "data": "hi"})
        assert (await ws.receive_json())["data"] == "HI"
        for frame in ({"type": "no.such.type", "id": 2}, {"id": 3}):
            await ws.send_json(frame)
            assert (await ws.receive_json())["type"] == "error"
        await ws.send_text("not json")
        assert (await ws.receive_json())["code"] == "invalid_frame"
    found = metrics.collect()
    endpoint = "/chat/{room}"
    assert value_of(found, "messages", {"endpoint": endpoint, "direction": "in", "message_type": "say"}) == 1
    assert value_of(found, "messages", {"endpoint": endpoint, "direction": "in", "message_type": "_unknown"}) == 3
    assert value_of(found, "messages", {"endpoint": endpoint, "direction": "out"}) == 4
    assert value_of(found, "message.duration", {"endpoint": endpoint, "message_type": "say"}) > 0


ROOM = st.text(string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=12)
TYPE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ROOM, TYPE, ROOM), min_size=1, max_size=4))
def test_attributes_stay_bounded_whatever_paths_and_types_clients_use(
    adapter_name: str, visits: list[tuple[str, str, str]]
) -> None:
    metrics = Metrics()
    app = create_app([Echo, Chat], adapter_name, telemetry=metrics.telemetry)

    async def visit() -> None:
        async with ASGIClient(app) as client:
            for room, kind, stray in visits:
                async with client.connect(f"/echo/{room}") as ws:
                    await ws.send_text(kind)
                    await ws.receive_text()
                async with client.connect(f"/chat/{room}") as ws:
                    await ws.send_json({"type": kind, "id": 1, "data": stray})
                    await ws.receive_json()
                try:
                    async with client.connect(f"/nowhere/{stray}"):
                        pass
                except HandshakeRefused:
                    pass

    anyio.run(visit)
    allowed: dict[str, set[Any]] = {
        "endpoint": {ECHO, "/chat/{room}", "/small", "/quiet", "/bye", "_unknown"},
        "message_type": {"say", "reply", "error", "_unknown"},
        "direction": {"in", "out"},
        "outcome": {"accepted", "refused"},
        "reason": {"not_found"},
        "code": {1000},
        "initiator": {"client", "server"},
    }
    seen = metrics.collect()
    assert seen["pyfly_ws.messages"]
    for name, found in seen.items():
        for attributes, _ in found:
            for key, value in attributes.items():
                assert value in allowed[key], (name, key, value)


def key_guard(view: HandshakeView) -> None:
    if view.headers.get("x-key") != "k":
        raise Reject(401, "the metrics need a key")


async def test_the_prometheus_page_over_a_real_server(adapter_name: str) -> None:
    metrics = Metrics()
    page = Prometheus("/metrics", guards=[key_guard])
    app = create_app(Echo, adapter_name, telemetry=metrics.telemetry, metrics=page)
    with serve(app) as url:
        async with connect(f"{url}/echo/hall") as ws:
            for text in ("a", "b"):
                await ws.send(text)
                assert await ws.recv() == text
        async with httpx.AsyncClient(base_url=url.replace("ws://", "http://")) as http:
            assert (await http.get("/metrics")).status_code == 401
            with anyio.fail_after(5):
                while True:
                    reply = await http.get("/metrics", headers={"x-key": "k"})
                    samples = {
                        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                        for family in text_string_to_metric_families(reply.text)
                        for sample in family.samples
                    }
                    closed = (("code", "1000"), ("endpoint", ECHO), ("initiator", "client"))
                    if samples.get(("pyfly_ws_closes_total", closed)):
                        break
                    await anyio.sleep(0.02)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    incoming = (("direction", "in"), ("endpoint", ECHO), ("message_type", ""))
    assert samples[("pyfly_ws_messages_total", incoming)] == 2
    assert samples[("pyfly_ws_sessions_active", (("endpoint", ECHO),))] == 0
    assert samples[("pyfly_ws_session_duration_seconds_count", (("endpoint", ECHO),))] == 1
    assert metrics.value("messages", endpoint=ECHO, direction="in") == 2  # OpenTelemetry reads the same figures
