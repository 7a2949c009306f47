"""An app whose endpoint takes its token in the query string, and reports everything it can: the redaction test's.

Spans are written to stderr (the console exporter), next to the log lines; metrics are served at ``/metrics``.
"""

from __future__ import annotations

import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from pyfly_ws import (
    Principal,
    Telemetry,
    WebSocketSession,
    create_app,
    message_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.auth import InvalidToken, QueryToken

SECRET = "s3cr3t-t0ken-4242"


def verify(token: str) -> Principal:
    if token != SECRET:
        raise InvalidToken("unknown token")
    return Principal("ann")


@rest_controller
@websocket_mapping("/ws", authenticator=QueryToken(verify, name="access_token"))
class Echo:
    @message_mapping("echo")
    async def echo(self, session: WebSocketSession, text: str) -> str:
        return text


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
app = create_app(Echo, telemetry=Telemetry(tracer_provider=provider, message_spans=True), metrics="/metrics")
