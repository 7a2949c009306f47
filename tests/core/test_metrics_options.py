"""Metrics off by default and without cost, on when asked, and a missing extra named when asked without it."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pyfly_ws import Telemetry, WebSocketSession, create_app, message_mapping, rest_controller, websocket_mapping
from pyfly_ws.session.counted import CountedSession
from pyfly_ws.session.wire import Wire
from pyfly_ws.telemetry.prometheus import prometheus_name
from pyfly_ws.telemetry.readings import INSTRUMENTS
from pyfly_ws.testing import ASGIClient
from tests.support.metrics import Metrics, reaches

pytestmark = pytest.mark.anyio

BLOCKING = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Blocker())
    from pyfly_ws import MissingDependencyError, Telemetry, create_app
    from examples.echo import EchoController
    """
)


def run(code: str, blocked: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKING + textwrap.dedent(code), blocked],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@rest_controller
class Which:
    @websocket_mapping("/which")
    async def which(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(type(session).__name__)


async def session_class(app: Any) -> str:
    async with ASGIClient(app) as client, client.connect("/which") as ws:
        return await ws.receive_text()


async def test_sessions_count_only_while_metrics_are_on() -> None:
    assert await session_class(create_app(Which)) == "WebSocketSession"
    assert await session_class(create_app(Which, telemetry=Telemetry(enabled=False))) == "WebSocketSession"
    assert await session_class(create_app(Which, telemetry=Metrics().telemetry)) == CountedSession.__name__
    assert await session_class(create_app(Which, metrics="/metrics")) == CountedSession.__name__


def test_without_the_otel_extra_nothing_is_imported_and_asking_names_it() -> None:
    out = run(
        """
        create_app(EchoController)
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in ("opentelemetry", "prometheus_client"))
        assert not loaded, loaded
        try:
            create_app(EchoController, telemetry=Telemetry())
        except MissingDependencyError as exc:
            print(exc)
        """,
        "opentelemetry",
    )
    assert out.strip() == 'telemetry needs the OpenTelemetry API, which is not installed: pip install "pyfly-ws[otel]"'


async def test_without_prometheus_client_the_page_answers_404_naming_the_extra() -> None:
    out = run(
        """
        import httpx, asyncio
        app = create_app(EchoController, metrics="/metrics")
        async def get():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                reply = await http.get("/metrics")
            print(reply.status_code, reply.text.strip())
        asyncio.run(get())
        """,
        "prometheus_client",
    )
    assert (
        out.strip()
        == '404 The metrics page needs prometheus-client, which is not installed: pip install "pyfly-ws[prometheus]"'
    )


def test_every_instrument_has_one_prometheus_name() -> None:
    names = [prometheus_name(instrument) for instrument in INSTRUMENTS]
    assert len(set(names)) == len(names)
    assert all(name.startswith("pyfly_ws_") and "." not in name for name in names)
    assert "pyfly_ws_session_duration_seconds" in names and "pyfly_ws_message_size_bytes" in names


def _body(function: Any) -> list[str]:
    """A function's statements as written, without its signature, docstring, comments and "# counted" lines."""
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source).body[0]
    assert isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef)
    first = tree.body[0]
    skip = first.end_lineno if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) else tree.lineno
    lines = source.splitlines()[skip or 0 :]
    kept = [re.sub(r"\s+#.*$", "", line) for line in lines if "# counted" not in line]
    return [line for line in kept if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("name", ["_receive", "send_text"])
def test_the_counted_twins_are_the_plain_ones_plus_the_count(name: str) -> None:
    """CountedSession writes out two methods of Wire with the count in them: any other difference fails here."""
    assert _body(getattr(CountedSession, name)) == _body(getattr(Wire, name))
    assert "# counted" in inspect.getsource(getattr(CountedSession, name))


@rest_controller
@websocket_mapping("/trio/chat")
class TrioChat:
    @message_mapping("say")
    async def say(self, session: WebSocketSession, data: str) -> str:
        await session.emit("heard", data)
        return data.upper()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_on_trio_a_session_is_counted_and_traced() -> None:
    metrics = Metrics()
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(meter_provider=metrics.provider, tracer_provider=tracer_provider, message_spans=True)
    app = create_app(TrioChat, "asgi", telemetry=telemetry)
    async with ASGIClient(app) as client, client.connect("/trio/chat") as ws:
        for n in (1, 2):
            await ws.send_json({"type": "say", "id": n, "data": "hi"})
            heard = await ws.receive_json()
            assert heard["type"] == "heard" and heard["data"] == "hi" and "traceparent" in heard
            assert await ws.receive_json() == {"type": "reply", "id": n, "data": "HI"}
        await ws.close(1000)
    endpoint: dict[str, Any] = {"endpoint": "/trio/chat"}
    assert await reaches(metrics, "closes", **endpoint, code=1000, initiator="client") == 1
    assert metrics.value("sessions.active", **endpoint) == 0
    assert metrics.value("messages", **endpoint, direction="in", message_type="say") == 2
    assert metrics.value("messages", **endpoint, direction="out") == 4  # pushes and replies
    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names == ["WebSocket /trio/chat", "message say", "message say"]
    metrics.provider.shutdown()
    tracer_provider.shutdown()
