"""The pyfly-ws target: one controller, served by whichever adapter the run names."""

from __future__ import annotations

from typing import Any

from pyfly_ws import (
    Container,
    InvalidToken,
    Principal,
    Telemetry,
    WebSocketSession,
    create_app,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.asgi import ASGIConnection, PyflyASGIApp
from pyfly_ws.auth import Authenticator, JWTVerifier, SubprotocolToken
from pyfly_ws.hub import Hub


@rest_controller
class BenchController:
    """``/echo`` and ``/room``, as a user of pyfly-ws would write them."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/room")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await self.hub.join(session, "bench")
        await session.send_text("joined")
        async for text in session.iter_text():
            if text.startswith("go:"):
                await self.hub.publish("bench", text[3:])


def build_app(adapter: str, telemetry: Telemetry | None = None, authenticator: Authenticator | None = None) -> Any:
    """The controller on ``adapter``, with an in-memory hub, or one on Redis when ``BENCH_REDIS_URL`` is set."""
    import os

    hub = Hub(os.environ.get("BENCH_REDIS_URL") or None)
    container = Container()
    container.register_instance(hub)
    container.register(BenchController)
    return create_app(container, adapter=adapter, services=[hub], telemetry=telemetry, authenticator=authenticator)


SIGNING_KEY = "the benchmark's HS256 key, 32 bytes or more"
SIGNED_PROTOCOL = "bench.v1"
LOOKED_UP = {"t-bench": Principal("bench")}
"""The one token of the looked-up sign-in: what pyfly-ws's own part of signing in costs, with no cryptography."""


def signed_subprotocols(jwt_token: bool) -> list[str]:
    """What a client of :func:`build_signed_app` offers: ``bench.v1``, and its token (a JWT valid for an hour)."""
    if not jwt_token:
        return [SIGNED_PROTOCOL, "bearer.t-bench"]
    import time

    import jwt

    token = jwt.encode({"sub": "bench", "exp": int(time.time()) + 3600}, SIGNING_KEY, algorithm="HS256")
    return [SIGNED_PROTOCOL, f"bearer.{token}"]


def look_up(token: str) -> Principal:
    principal = LOOKED_UP.get(token)
    if principal is None:
        raise InvalidToken("unknown token")
    return principal


def build_signed_app(jwt_token: bool) -> Any:
    """The ``asgi`` app signing each session in with the token it offers as a subprotocol: looked up in a dict,
    or a JWT (HS256) checked by :class:`~pyfly_ws.auth.JWTVerifier`."""
    verify = JWTVerifier(key=SIGNING_KEY, algorithms=["HS256"]) if jwt_token else look_up
    return build_app("asgi", authenticator=SubprotocolToken(verify, protocols=[SIGNED_PROTOCOL]))


def sdk_telemetry() -> tuple[Telemetry, Any]:
    """Telemetry on the OpenTelemetry SDK, and its metric reader: metrics read into memory, every span recorded.

    The tracer provider samples everything and has no processor: each handshake's span is made, filled and
    ended as under any exporter, then dropped (what an exporter costs is the exporter's, not pyfly-ws's).
    """
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    reader = InMemoryMetricReader()
    return Telemetry(meter_provider=MeterProvider(metric_readers=[reader]), tracer_provider=TracerProvider()), reader


def build_metered_app() -> Any:
    """The ``asgi`` app with telemetry on (:func:`sdk_telemetry`)."""
    return build_app("asgi", sdk_telemetry()[0])


class PlainConnection(ASGIConnection):
    """The reference connection, spoken to through its ``Connection`` methods only."""

    __slots__ = ()
    direct_events = False


def build_plain_app() -> PyflyASGIApp:
    """The ``asgi`` app whose connections take the plain path: the direct path's twin, for comparison."""
    app = build_app("asgi")
    assert isinstance(app, PyflyASGIApp)
    app.connection_class = PlainConnection
    return app
