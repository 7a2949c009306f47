"""The app the Redis trace test serves in two processes: a traced gateway whose messages go to a room on the hub.

Each process has an OpenTelemetry SDK of its own, with an in-memory exporter: ``/spans`` answers the
spans it finished (name, trace id, span id, parent span id), so the test can read them from outside.

``/chat/{room}``: joins the room; ``say`` publishes ``said`` (with the data) to the room through the hub.
"""

from __future__ import annotations

import os

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pyfly_ws import Telemetry, WebSocketSession, create_app, message_mapping, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub, RedisBackend

EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
HUB = Hub(RedisBackend(os.environ["HUB_REDIS_URL"]))


@rest_controller
@websocket_mapping("/chat/{room}")
class Chat:
    """A room shared by every process through Redis."""

    async def on_connect(self, session: WebSocketSession) -> None:
        await session.accept()
        await HUB.join(session, session.path_params["room"])

    @message_mapping("say")
    async def say(self, session: WebSocketSession, data: str) -> None:
        await HUB.publish_message(session.path_params["room"], "said", data)


@rest_controller
class Spans:
    @websocket_mapping("/spans")
    async def spans(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(
            [
                {
                    "name": span.name,
                    "trace": f"{span.context.trace_id:032x}",
                    "span": f"{span.context.span_id:016x}",
                    "parent": f"{span.parent.span_id:016x}" if span.parent is not None else None,
                }
                for span in EXPORTER.get_finished_spans()
                if span.context is not None
            ]
        )


app = create_app([Chat, Spans], services=[HUB], telemetry=Telemetry(tracer_provider=PROVIDER, message_spans=True))
