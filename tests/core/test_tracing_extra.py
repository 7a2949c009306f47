"""Without telemetry nothing imports OpenTelemetry; the envelope names its trace fields like the others."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pyfly_ws.mapping.messages import Envelope


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)


def test_an_application_that_does_not_trace_never_imports_opentelemetry() -> None:
    done = run(
        """
        import sys
        import anyio
        from pyfly_ws import WebSocketSession, create_app, message_mapping, rest_controller, websocket_mapping
        from pyfly_ws.testing import ASGIClient

        @rest_controller
        @websocket_mapping("/chat")
        class Chat:
            @message_mapping("say")
            async def say(self, session: WebSocketSession, data: str) -> str:
                await session.emit("heard", data)
                return data

        async def main() -> None:
            async with ASGIClient(create_app(Chat)) as client, client.connect("/chat") as ws:
                await ws.send_json({"type": "say", "id": 1, "data": "x"})
                assert (await ws.receive_json())["type"] == "heard"
                assert await ws.receive_json() == {"type": "reply", "id": 1, "data": "x"}

        anyio.run(main)
        print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_trace_fields_of_an_envelope_are_named_like_the_others() -> None:
    assert (Envelope().traceparent, Envelope().tracestate) == ("traceparent", "tracestate")
    assert Envelope(traceparent="tp", tracestate="ts").traceparent == "tp"
    with pytest.raises(ValueError, match="must differ"):
        Envelope(data="traceparent")
