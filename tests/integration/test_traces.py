"""Traces with the real OpenTelemetry SDK, on every adapter over a real server: handshakes, messages, envelopes.

Each test gives its application a TracerProvider of its own, whose spans an
in-memory exporter keeps; the global provider is never touched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake
from websockets.typing import Origin

from pyfly_ws import (
    HandshakeView,
    MessageError,
    Reject,
    Telemetry,
    WebSocketSession,
    create_app,
    message_mapping,
    registry_of,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)
from tests.support.metrics import Metrics, reaches
from tests.support.server import serve

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@rest_controller
class Raw:
    @websocket_mapping("/t/raw/{room}")
    async def raw(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("hi")
        async for text in session.iter_text():
            await session.send_text(text)


def refuse_everyone(view: HandshakeView) -> None:
    raise Reject(403, "members only")


@rest_controller
@websocket_policy(guards=[refuse_everyone])
class Guarded:
    @websocket_mapping("/t/guarded/{room}")
    async def guarded(self, session: WebSocketSession) -> None:
        await session.accept()


@rest_controller
class Failing:
    @websocket_mapping("/t/numbered/{n:int}")
    async def numbered(self, session: WebSocketSession) -> None:
        await session.accept()

    @websocket_mapping("/t/broken/{room}")
    async def broken(self, session: WebSocketSession) -> None:
        raise RuntimeError("broken before accept")

    @websocket_mapping("/t/declined/{room}")
    async def declined(self, session: WebSocketSession) -> None:
        await session.close()


@rest_controller
@websocket_mapping("/t/chat/{room}")
class Chat:
    @message_mapping("say")
    async def say(self, session: WebSocketSession, data: str) -> str:
        await session.emit("heard", data)
        return data.upper()

    @message_mapping("ask")
    async def ask(self, session: WebSocketSession, data: str) -> Any:
        return await session.request("question", data, timeout=5)

    @message_mapping("fail")
    async def fail(self, data: Any) -> None:
        raise MessageError("nope", "refused on purpose")


class Spans:
    """A TracerProvider of the test's own, and the spans it finished."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metrics = Metrics()
        """The metrics of the same telemetry: a refusal is counted with the reason its span names."""

    def finished(self, count: int, timeout: float = 5.0) -> list[ReadableSpan]:
        """Exactly ``count`` spans once they have ended (a refusal's span ends just after the client hears it)."""
        deadline = time.monotonic() + timeout
        while len(self.exporter.get_finished_spans()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and no more than those
        spans = list(self.exporter.get_finished_spans())
        assert len(spans) == count, [span.name for span in spans]
        return spans


@pytest.fixture
def spans() -> Iterator[Spans]:
    found = Spans()
    yield found
    found.provider.shutdown()
    found.metrics.provider.shutdown()


def serve_traced(adapter_name: str, spans: Spans, *, message_spans: bool = False) -> Any:
    return create_app(
        [Raw, Guarded, Failing, Chat],
        adapter_name,
        allowed_origins=["http://good.example"],
        telemetry=Telemetry(
            meter_provider=spans.metrics.provider, tracer_provider=spans.provider, message_spans=message_spans
        ),
    )


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def assert_bounded(span: ReadableSpan) -> None:
    """No attribute holds a raw path, a room, a query or a payload."""
    for value in attributes(span).values():
        assert "secret" not in str(value), (span.name, attributes(span))


async def test_an_accepted_handshake_is_one_server_span_with_bounded_attributes(
    adapter_name: str, spans: Spans
) -> None:
    with serve(serve_traced(adapter_name, spans)) as base:
        async with connect(f"{base}/t/raw/secret-room?token=secret", open_timeout=10) as ws:
            assert await ws.recv() == "hi"
            await ws.send("one")
            assert await ws.recv() == "one"
            [span] = spans.finished(1)
    assert span.name == "WebSocket /t/raw/{room}"
    assert span.kind is SpanKind.SERVER
    assert attributes(span) == {"pyfly_ws.endpoint": "/t/raw/{room}", "pyfly_ws.handshake.outcome": "accepted"}
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None  # no traceparent header: a trace of its own
    assert_bounded(span)
    assert await reaches(spans.metrics, "handshakes", endpoint="/t/raw/{room}", outcome="accepted") == 1


async def test_a_traceparent_header_continues_the_callers_trace(adapter_name: str, spans: Spans) -> None:
    with serve(serve_traced(adapter_name, spans)) as base:
        async with connect(f"{base}/t/raw/r", additional_headers={"traceparent": TRACEPARENT}, open_timeout=10) as ws:
            assert await ws.recv() == "hi"
            [span] = spans.finished(1)
    assert span.context is not None and span.parent is not None
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    assert span.parent.is_remote


@pytest.mark.parametrize("refusal", ["origin", "guard", "drain"])
async def test_a_refused_handshake_is_an_error_span_naming_its_reason(
    adapter_name: str, spans: Spans, refusal: str
) -> None:
    app = serve_traced(adapter_name, spans)
    path = "/t/guarded/secret-room" if refusal == "guard" else "/t/raw/secret-room"
    origin = Origin("http://evil.example" if refusal == "origin" else "http://good.example")
    with serve(app) as base:
        if refusal == "drain":
            registry = registry_of(app)
            assert registry is not None
            await registry.drain(0)
        with pytest.raises(InvalidHandshake):
            async with connect(f"{base}{path}", origin=origin, open_timeout=10):
                pass
        [span] = spans.finished(1)
    template = "/t/guarded/{room}" if refusal == "guard" else "/t/raw/{room}"
    assert span.name == f"WebSocket {template}"
    assert attributes(span) == {
        "pyfly_ws.endpoint": template,
        "pyfly_ws.handshake.outcome": "refused",
        "pyfly_ws.handshake.reason": refusal,
    }
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"handshake refused: {refusal}"
    assert_bounded(span)
    refused: dict[str, Any] = {"endpoint": template, "outcome": "refused", "reason": refusal}
    assert await reaches(spans.metrics, "handshakes", **refused) == 1


@pytest.mark.parametrize(
    ("path", "template", "reason"),
    [
        ("/t/numbered/secret", "/t/numbered/{n:int}", "not_found"),
        ("/t/broken/secret", "/t/broken/{room}", "error"),
        ("/t/declined/secret", "/t/declined/{room}", "guard"),
    ],
)
async def test_a_handshake_the_endpoint_cannot_take_names_why(
    adapter_name: str, spans: Spans, path: str, template: str, reason: str
) -> None:
    with serve(serve_traced(adapter_name, spans)) as base:
        with pytest.raises(InvalidHandshake):
            async with connect(f"{base}{path}", open_timeout=10):
                pass
        [span] = spans.finished(1)
    assert span.name == f"WebSocket {template}"
    assert attributes(span) == {
        "pyfly_ws.endpoint": template,
        "pyfly_ws.handshake.outcome": "refused",
        "pyfly_ws.handshake.reason": reason,
    }
    assert span.status.status_code is StatusCode.ERROR
    assert_bounded(span)
    refused: dict[str, Any] = {"endpoint": template, "outcome": "refused", "reason": reason}
    assert await reaches(spans.metrics, "handshakes", **refused) == 1


async def test_message_spans_are_off_by_default(adapter_name: str, spans: Spans) -> None:
    with serve(serve_traced(adapter_name, spans)) as base:
        async with connect(f"{base}/t/chat/r", open_timeout=10) as ws:
            for i in range(2):
                await ws.send(json.dumps({"type": "say", "id": i, "data": "x"}))
                assert json.loads(await ws.recv())["type"] == "heard"
                assert json.loads(await ws.recv())["type"] == "reply"
            [handshake] = spans.finished(1)
    assert handshake.name == "WebSocket /t/chat/{room}"


async def test_each_message_is_a_short_trace_of_its_own_linked_to_the_handshake(
    adapter_name: str, spans: Spans
) -> None:
    frames: list[dict[str, Any]] = []
    with serve(serve_traced(adapter_name, spans, message_spans=True)) as base:
        async with connect(f"{base}/t/chat/secret-room", open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "say", "id": 1, "data": "secret"}))
            frames += [json.loads(await ws.recv()) for _ in range(2)]
            await ws.send(json.dumps({"type": "fail", "id": 2, "data": None}))
            frames.append(json.loads(await ws.recv()))
            await ws.send(json.dumps({"type": "secret-type"}))
            frames.append(json.loads(await ws.recv()))
            await ws.send(json.dumps({"type": "say", "data": "no id"}))
            frames.append(json.loads(await ws.recv()))
            finished = spans.finished(5)
    [handshake] = [span for span in finished if span.kind is SpanKind.SERVER]
    messages = [span for span in finished if span.kind is SpanKind.CONSUMER]
    assert [span.name for span in messages] == ["message say", "message fail", "message _unknown", "message say"]
    assert handshake.context is not None
    traces = {handshake.context.trace_id}
    for span in messages:
        assert span.parent is None  # a new root: not the handshake's child, not the previous message's
        assert span.context is not None
        traces.add(span.context.trace_id)
        [link] = span.links
        assert link.context.span_id == handshake.context.span_id
        assert link.context.trace_id == handshake.context.trace_id
        assert_bounded(span)
    assert len(traces) == 5
    assert [attributes(span) for span in messages] == [
        {"pyfly_ws.endpoint": "/t/chat/{room}", "pyfly_ws.message.type": "say", "pyfly_ws.message.outcome": "reply"},
        {
            "pyfly_ws.endpoint": "/t/chat/{room}",
            "pyfly_ws.message.type": "fail",
            "pyfly_ws.message.outcome": "error",
            "pyfly_ws.message.error_code": "nope",
        },
        {
            "pyfly_ws.endpoint": "/t/chat/{room}",
            "pyfly_ws.message.type": "_unknown",
            "pyfly_ws.message.outcome": "error",
            "pyfly_ws.message.error_code": "unknown_type",
        },
        {"pyfly_ws.endpoint": "/t/chat/{room}", "pyfly_ws.message.type": "say", "pyfly_ws.message.outcome": "none"},
    ]
    assert [span.status.status_code for span in messages] == [
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    # The push the handler emitted carries its message's trace; the reply is as before.
    heard, reply = frames[0], frames[1]
    said = messages[0].context
    assert said is not None
    assert heard["traceparent"].split("-")[1:3] == [f"{said.trace_id:032x}", f"{said.span_id:016x}"]
    assert reply == {"type": "reply", "id": 1, "data": "SECRET"}
    assert [frame["code"] for frame in frames[2:4]] == ["nope", "unknown_type"]


async def test_a_traceparent_in_the_envelope_continues_the_senders_trace(adapter_name: str, spans: Spans) -> None:
    with serve(serve_traced(adapter_name, spans, message_spans=True)) as base:
        async with connect(f"{base}/t/chat/r", open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "say", "id": "c1", "data": "x", "traceparent": TRACEPARENT}))
            heard = json.loads(await ws.recv())
            assert json.loads(await ws.recv()) == {"type": "reply", "id": "c1", "data": "X"}
            await ws.send(json.dumps({"type": "say", "data": "x", "traceparent": "not a traceparent"}))
            assert json.loads(await ws.recv())["type"] == "heard"
            finished = spans.finished(3)
    continued, fresh = [span for span in finished if span.kind is SpanKind.CONSUMER]
    assert continued.context is not None and continued.parent is not None
    assert f"{continued.context.trace_id:032x}" == TRACE_ID
    assert f"{continued.parent.span_id:016x}" == PARENT_ID
    assert heard["traceparent"].split("-")[1] == TRACE_ID  # and it goes on in what the handler pushed
    assert fresh.parent is None  # an invalid traceparent is ignored: the message starts a trace
    assert fresh.context is not None and f"{fresh.context.trace_id:032x}" != TRACE_ID


async def test_a_server_request_carries_the_trace_of_the_message_that_asked(adapter_name: str, spans: Spans) -> None:
    with serve(serve_traced(adapter_name, spans, message_spans=True)) as base:
        async with connect(f"{base}/t/chat/r", open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "ask", "id": 1, "data": "why?", "traceparent": TRACEPARENT}))
            question = json.loads(await ws.recv())
            assert (question["type"], question["data"]) == ("question", "why?")
            await ws.send(json.dumps({"type": "reply", "id": question["id"], "data": "because"}))
            assert json.loads(await ws.recv()) == {"type": "reply", "id": 1, "data": "because"}
            finished = spans.finished(2)
    [asked] = [span for span in finished if span.kind is SpanKind.CONSUMER]
    assert asked.context is not None
    assert question["traceparent"].split("-")[1:3] == [TRACE_ID, f"{asked.context.span_id:016x}"]


async def test_without_tracing_frames_carry_no_trace_context(adapter_name: str) -> None:
    with serve(create_app(Chat, adapter_name)) as base:
        async with connect(f"{base}/t/chat/r", open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "say", "id": 1, "data": "x", "traceparent": TRACEPARENT}))
            with anyio.fail_after(5):
                assert json.loads(await ws.recv()) == {"type": "heard", "data": "x"}
                assert json.loads(await ws.recv()) == {"type": "reply", "id": 1, "data": "X"}
