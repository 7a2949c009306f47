"""The Starlette (and FastAPI) adapter over a real uvicorn server and a real ``websockets`` client."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

import pyfly_ws
import pyfly_ws_starlette
from pyfly_ws import (
    Container,
    WebSocketDisconnect,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.cli import main as cli_main
from pyfly_ws.config import load_adapter
from pyfly_ws.testing import ASGIClient, HandshakeRefused
from pyfly_ws_starlette import StarletteConnection
from tests.adapters import starlette_mounted
from tests.support.blocked import messages_without
from tests.support.drain import Held, assert_drains_on_shutdown
from tests.support.probe import Probe
from tests.support.run_command import drain_held, free_port
from tests.support.server import serve

pytestmark = pytest.mark.anyio


@rest_controller
@request_mapping("/ws")
class Endpoints:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            while True:
                await session.send(await session.receive())
        except WebSocketDisconnect as exc:
            self.probe.put("left", type(exc).__name__, exc.code, exc.reason)
            raise

    @websocket_mapping("/rooms/{room_id:int}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(session.path_params)

    @websocket_mapping("/files/{rest:path}")
    async def files(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(session.path_params)

    @websocket_mapping("/bye")
    async def bye(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4001, "bye now")

    @websocket_mapping("/proto")
    async def proto(self, session: WebSocketSession) -> None:
        await session.accept(session.subprotocols[-1], {"X-Pyfly": "yes"})
        await session.send(",".join(session.subprotocols))

    @websocket_mapping("/boom")
    async def boom(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("boom")

    @websocket_mapping("/refuse")
    async def refuse(self, session: WebSocketSession) -> None:
        await session.close()

    @websocket_mapping("/late")
    async def late(self, session: WebSocketSession) -> None:
        await session.accept()
        self.probe.put("accepted")
        await anyio.to_thread.run_sync(self.probe.gate.wait, 5.0)
        try:
            await session.send("too late")
        except Exception as exc:
            self.probe.put("send failed", type(exc).__name__, isinstance(exc, WebSocketDisconnect))
        else:
            self.probe.put("send succeeded")

    def on_disconnect(self, session: WebSocketSession) -> None:
        self.probe.put("on_disconnect", session.path)


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def source(probe: Probe) -> Container:
    container = Container()
    container.register_instance(probe)
    container.register(Endpoints)
    return container


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def assert_serves(base: str, prefix: str = "") -> None:
    """The HTTP route answers and the echo endpoint round-trips text and bytes."""
    async with httpx.AsyncClient() as client:
        response = await client.get(base.replace("ws://", "http://") + "/health")
    assert (response.status_code, response.text) == (200, "ok")
    async with connect(f"{base}{prefix}/ws/echo") as ws:
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\xffbin")
        assert await ws.recv() == b"\x00\xffbin"


@pytest.mark.parametrize("form", ["routes", "mount", "prefixed"])
async def test_mounts_into_an_existing_starlette_app(source: Container, form: str) -> None:
    prefix = ""
    if form == "routes":
        app = Starlette(routes=[Route("/health", health), *pyfly_ws_starlette.routes(source)])
    elif form == "mount":
        app = Starlette(routes=[Route("/health", health)])
        pyfly_ws_starlette.mount(app, source)
    else:
        prefix = "/api"
        app = Starlette(routes=[Route("/health", health), Mount(prefix, routes=pyfly_ws_starlette.routes(source))])
    with serve(app) as base:
        await assert_serves(base, prefix)
        async with connect(f"{base}{prefix}/ws/rooms/7") as ws:
            assert await ws.recv() == '{"room_id":7}'


@pytest.mark.parametrize("form", ["routes", "mount"])
async def test_mounts_into_a_fastapi_app(source: Container, form: str) -> None:
    app = FastAPI(routes=list(pyfly_ws_starlette.routes(source))) if form == "routes" else FastAPI()
    app.get("/health", response_class=PlainTextResponse)(lambda: "ok")
    if form == "mount":
        pyfly_ws_starlette.mount(app, source)
    with serve(app) as base:
        await assert_serves(base)


def test_routes_keep_the_core_order_and_speak_starlette_syntax(source: Container) -> None:
    found = pyfly_ws_starlette.routes(source)
    assert all(isinstance(route, WebSocketRoute) for route in found)
    by_name = {route.name: route.path for route in found}
    assert by_name["Endpoints.room"] == "/ws/rooms/{room_id}"
    assert by_name["Endpoints.files"] == "/ws/files/{rest:path}"
    assert [route.name for route in found] == [endpoint.qualname for endpoint in pyfly_ws.discover(source)]
    assert found[-1].name == "Endpoints.files"  # a {path} parameter sorts last


async def test_path_parameters_are_typed_and_checked(source: Container) -> None:
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        async with connect(f"{base}/ws/rooms/-12") as ws:
            assert await ws.recv() == '{"room_id":-12}'
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{base}/ws/rooms/abc"):
                pass
        assert refused.value.response.status_code == 403
        async with connect(f"{base}/ws/files/a/b/c") as ws:
            assert await ws.recv() == '{"rest":"a/b/c"}'


async def test_close_code_and_reason_reach_each_side(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        async with connect(f"{base}/ws/bye") as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4001, "bye now")
        assert await probe.next() == ("on_disconnect", "/ws/bye")

        async with connect(f"{base}/ws/echo") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"
            await ws.close(4002, "client done")
        assert await probe.next() == ("left", "WebSocketDisconnect", 4002, "client done")
        assert await probe.next() == ("on_disconnect", "/ws/echo")
    assert probe.events.empty(), "on_disconnect must run exactly once per session"


async def test_subprotocol_and_accept_headers_reach_the_client(source: Container) -> None:
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        async with connect(f"{base}/ws/proto", subprotocols=[Subprotocol("v1.chat"), Subprotocol("v2.chat")]) as ws:
            assert ws.subprotocol == "v2.chat"
            assert ws.response is not None
            assert ws.response.headers["x-pyfly"] == "yes"
            assert await ws.recv() == "v1.chat,v2.chat"


async def test_handler_error_closes_1011_and_logs_a_warning(
    source: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pyfly_ws")
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        async with connect(f"{base}/ws/boom") as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1011
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Endpoints.boom" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None
    assert str(warnings[0].exc_info[1]) == "boom"


async def test_close_before_accept_refuses_with_403(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{base}/ws/refuse"):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as unknown:
            async with connect(f"{base}/ws/nowhere"):
                pass
        assert unknown.value.response.status_code == 403
    assert probe.events.empty(), "on_disconnect runs for accepted sessions only"


async def test_send_after_the_peer_left_raises_a_disconnect(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_starlette.create_app(source)) as base:
        async with connect(f"{base}/ws/late"):
            assert await probe.next() == ("accepted",)
        probe.gate.set()
        assert await probe.next() == ("send failed", "SessionClosedError", True)
        assert await probe.next() == ("on_disconnect", "/ws/late")


async def test_pyfly_create_app_builds_a_starlette_app(source: Container) -> None:
    app = pyfly_ws.create_app(source, adapter="starlette", routes=[Route("/health", health)], debug=True)
    assert isinstance(app, Starlette)
    assert app.debug is True
    assert [type(route) for route in app.routes][-1] is Route  # the user's routes come after the endpoints
    with serve(app) as base:
        await assert_serves(base)
    with pytest.raises(TypeError, match="bogus"):
        pyfly_ws_starlette.create_app(source, bogus=1)


def native_socket(*incoming: dict[str, Any], send_error: Exception | None = None) -> WebSocket:
    """A Starlette ``WebSocket`` over scripted ASGI messages, for the contract's edge cases."""
    messages = iter(incoming)

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        if send_error is not None and message["type"] != "websocket.accept":
            raise send_error

    return WebSocket({"type": "websocket", "path": "/x", "headers": []}, receive, send)


async def test_connection_keeps_reporting_a_departed_peer() -> None:
    connect_msg = {"type": "websocket.connect"}
    gone = StarletteConnection(native_socket(connect_msg, {"type": "websocket.disconnect", "code": 4005}))
    await gone.accept(None, [(b"x-a", b"1")])
    for _ in range(2):  # Starlette itself would raise RuntimeError the second time
        with pytest.raises(WebSocketDisconnect) as left:
            await gone.receive()
        assert (left.value.code, left.value.reason) == (4005, "")
    with pytest.raises(WebSocketDisconnect):
        await gone.send("x")
    await gone.close(1000, "")  # quiet: the peer is gone

    for error in (OSError("reset"), ConnectionResetError()):
        broken = StarletteConnection(native_socket(connect_msg, send_error=error))
        await broken.accept(None, ())
        with pytest.raises(WebSocketDisconnect) as lost:
            await broken.send(b"x")
        assert lost.value.code == 1006
        await broken.close(1000, "")
    dropped = StarletteConnection(native_socket(connect_msg, send_error=BrokenPipeError()))
    await dropped.accept(None, ())
    await dropped.close(1000, "")  # the server's error on close is swallowed

    closed = StarletteConnection(native_socket(connect_msg))
    await closed.accept(None, ())
    await closed.websocket.close()  # e.g. by middleware: Starlette now raises RuntimeError on send
    with pytest.raises(WebSocketDisconnect):
        await closed.send("x")
    await closed.close(1000, "")


async def test_a_connection_over_asgi_makes_its_native_socket_only_when_asked_in_the_state_it_is_in() -> None:
    sent: list[dict[str, Any]] = []
    incoming = iter([{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/x", "headers": []}
    connection = StarletteConnection.from_asgi(scope, receive, send)
    await connection.accept("chat", [(b"x-a", b"1")])
    assert sent == [{"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]}]
    assert await connection.receive() == "hi"
    socket = connection.websocket  # made now, accepted as the connection is
    assert socket is connection.websocket and socket.scope is scope
    assert (socket.client_state, socket.application_state) == (WebSocketState.CONNECTED, WebSocketState.CONNECTED)
    await socket.send_text("through the socket")
    await connection.close(4001, "bye")  # through the socket, whose state follows
    assert sent[1:] == [
        {"type": "websocket.send", "text": "through the socket"},
        {"type": "websocket.close", "code": 4001, "reason": "bye"},
    ]
    assert socket.application_state is WebSocketState.DISCONNECTED

    unopened = StarletteConnection.from_asgi(scope, receive, send)
    assert unopened.websocket.client_state is WebSocketState.CONNECTING  # nothing was read yet
    refused_receive = iter([{"type": "websocket.connect"}])

    async def receive_once() -> dict[str, Any]:
        return next(refused_receive)

    refused = StarletteConnection.from_asgi(scope, receive_once, send)
    await refused.close(1008, "")
    assert refused.websocket.application_state is WebSocketState.DISCONNECTED
    assert refused.websocket.client_state is WebSocketState.CONNECTED


def test_adapter_object_matches_the_entry_point() -> None:
    assert pyfly_ws_starlette.adapter.name == "starlette"
    assert isinstance(pyfly_ws_starlette.adapter, pyfly_ws.Adapter)
    assert load_adapter("starlette") is pyfly_ws_starlette.adapter


def test_import_without_starlette_names_the_extra() -> None:
    lines = messages_without("starlette", "pyfly_ws_starlette", "starlette")
    assert len(lines) == 2
    assert all(line.startswith("unavailable:") and 'pip install "pyfly-ws[starlette]"' in line for line in lines)


async def test_draining_lifespan_drains_mounted_routes_and_runs_the_inner_lifespan() -> None:
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def inner(app: Starlette) -> AsyncIterator[None]:
        entered.append("start")
        yield
        entered.append("stop")

    endpoints = pyfly_ws.discover(Held)
    app = Starlette(
        routes=pyfly_ws_starlette.translate(endpoints), lifespan=pyfly_ws_starlette.draining_lifespan(endpoints, inner)
    )
    await assert_drains_on_shutdown(app)
    assert entered == ["start", "stop"]


class Recorder:
    """A service that records when the application starts and stops it."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


@pytest.mark.parametrize("kind", ["fastapi", "starlette"])
async def test_mount_drains_on_lifespan_shutdown_inside_the_apps_own_lifespan(kind: str) -> None:
    entered: list[object] = []

    @contextlib.asynccontextmanager
    async def own(app: Any) -> AsyncIterator[None]:
        entered.append("start")
        yield
        entered.append(list(Held.closed))  # the sessions are drained before the app's own lifespan ends

    app = FastAPI(lifespan=own) if kind == "fastapi" else Starlette(lifespan=own)
    service = Recorder()
    registry = pyfly_ws_starlette.mount(app, Held, services=[service])
    assert pyfly_ws.registry_of(app) is registry
    await assert_drains_on_shutdown(app)
    assert entered == ["start", [(1001, "server shutting down")] * 2]
    assert service.events == ["start", "stop"]
    assert registry.draining


@rest_controller
class Other:
    @websocket_mapping("/other")
    async def other(self, session: WebSocketSession) -> None:
        await session.accept()


async def test_mount_twice_shares_one_registry_and_one_drain() -> None:
    app = FastAPI()
    service = Recorder()
    registry = pyfly_ws_starlette.mount(app, Held, services=[service])
    assert pyfly_ws_starlette.mount(app, Other) is registry
    assert [e.path for e in registry.endpoints] == ["/held", "/other"]
    await assert_drains_on_shutdown(app)
    assert service.events == ["start", "stop"]


@pytest.mark.parametrize("kind", ["fastapi", "starlette"])
async def test_mount_runs_the_drain_in_a_real_servers_lifespan(kind: str) -> None:
    app = FastAPI() if kind == "fastapi" else Starlette()
    service = Recorder()
    registry = pyfly_ws_starlette.mount(app, Held, services=[service])
    with serve(app) as base:
        assert service.events == ["start"]
        async with connect(f"{base}/held") as ws:
            assert await ws.recv() == "ready"
    assert registry.draining  # uvicorn closed the connections itself (1012) before the lifespan shutdown
    assert service.events == ["start", "stop"]


async def test_mount_into_a_prefixed_api_router_serves_under_the_prefix_and_drains() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/v1")
    registry = pyfly_ws_starlette.mount(router, Held)
    app.include_router(router)
    Held.closed.clear()
    async with ASGIClient(app) as client:
        with pytest.raises(HandshakeRefused):
            async with client.connect("/held"):
                pass
        async with client.connect("/v1/held") as ws:
            assert await ws.receive() == "ready"
            assert registry.count() == 1
            await client.shutdown()
            assert await ws.wait_closed() == (1001, "server shutting down")
    assert Held.closed == [(1001, "server shutting down")]


async def test_mount_into_a_prefixed_api_router_on_a_real_server() -> None:
    with serve(starlette_mounted.build_fastapi()) as base:
        async with connect(f"{base}/v1/ws/echo") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{base}/ws/echo"):
                pass
        assert refused.value.response.status_code == 403


def test_routes_reports_what_a_fastapi_app_serves(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYFLY_WS_ADAPTER", raising=False)
    target = "tests.adapters.starlette_mounted:fastapi_app"
    assert cli_main(["routes", target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines[1:]] == [
        ["/ws/wait", "Waiting.wait", "starlette", f"({target})"],
        ["/v1/ws/echo", "Echo.echo", "starlette", f"({target})"],
    ]


@pytest.mark.parametrize("target", ["fastapi_app", "starlette_app"])
def test_pyfly_ws_run_drains_a_mounted_app_on_sigterm(target: str) -> None:
    args = [f"tests.adapters.starlette_mounted:{target}", "--port", str(free_port())]
    out = drain_held(args, None, signal.SIGTERM, clients=2, path="/ws/wait")
    assert out.count("on_disconnect /ws/wait 1001 server shutting down") == 2, out


async def test_mount_serves_pages_beside_the_endpoints_under_the_router_prefix() -> None:
    from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document
    from pyfly_ws.asyncapi.pages import asyncapi_pages

    options = AsyncAPI(path="/asyncapi")
    pages = asyncapi_pages(asyncapi_document(pyfly_ws.discover(Held), options), options)
    app = FastAPI()
    router = APIRouter(prefix="/v1")
    pyfly_ws_starlette.mount(router, Held, pages=pages)
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        served = await http.get("/v1/asyncapi.json")
        assert (await http.post("/v1/asyncapi")).status_code == 405
        assert (await http.get("/asyncapi.json")).status_code == 404
    assert served.status_code == 200 and served.json()["asyncapi"] == "3.0.0"
