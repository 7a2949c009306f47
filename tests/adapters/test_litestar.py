"""The Litestar adapter's own surface, over a real uvicorn server and a real WebSocket client."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from litestar import Litestar, Router, get
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

import pyfly_ws
from pyfly_ws import (
    Container,
    WebSocketDisconnect,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws_litestar import LitestarAdapter, PyflyWebSocketPlugin, create_app, handlers
from tests.support.blocked import messages_without
from tests.support.drain import Held, assert_drains_on_shutdown
from tests.support.server import serve

TIMEOUT = 10.0


@rest_controller
@request_mapping("/ws")
class Probe:
    """Every endpoint the tests talk to; one fresh instance per test, so its records are the test's own."""

    def __init__(self) -> None:
        self.disconnects = 0
        self.peer_close: WebSocketDisconnect | None = None
        self.send_error: BaseException | None = None
        self.done = threading.Event()
        self.client_gone = threading.Event()

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for message in _messages(session):
            await session.send(message)

    @websocket_mapping("/rooms/{room_id:int}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        room_id = session.path_params["room_id"]
        await session.send_text(f"{type(room_id).__name__} {room_id} {session.path}")

    @websocket_mapping("/files/{p:path}")
    async def files(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(session.path_params["p"])

    @websocket_mapping("/bye")
    async def bye(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4001, "server says bye")

    @websocket_mapping("/listen")
    async def listen(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            await session.receive()
        except WebSocketDisconnect as exc:
            self.peer_close = exc
            raise
        finally:
            self.done.set()

    @websocket_mapping("/proto")
    async def proto(self, session: WebSocketSession) -> None:
        await session.accept(subprotocol="chat.v2", headers={"x-pyfly": "litestar"})
        await session.send_text(",".join(session.subprotocols))

    @websocket_mapping("/boom")
    async def boom(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("kaboom")

    @websocket_mapping("/refuse")
    async def refuse(self, session: WebSocketSession) -> None:
        await session.close()

    @websocket_mapping("/late")
    async def late(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        await anyio.to_thread.run_sync(self.client_gone.wait, TIMEOUT)
        try:
            await session.send_text("anyone there?")
        except Exception as exc:
            self.send_error = exc
        finally:
            self.done.set()

    async def on_disconnect(self, session: WebSocketSession) -> None:
        self.disconnects += 1


async def _messages(session: WebSocketSession) -> Any:
    try:
        while True:
            yield await session.receive()
    except WebSocketDisconnect:
        return


@get("/hello")
async def hello() -> str:
    return "hello from litestar"


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def source(probe: Probe) -> Container:
    container = Container()
    container.register_instance(probe)
    return container


@pytest.fixture
def url(source: Container) -> Iterator[str]:
    with serve(Litestar(route_handlers=[hello, *handlers(source)])) as base:
        yield base


async def _wait(event: threading.Event) -> None:
    assert await anyio.to_thread.run_sync(event.wait, TIMEOUT), "the server side did not get there in time"


async def _refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, open_timeout=TIMEOUT):
            pass
    return info.value.response.status_code


# -- mounting ----------------------------------------------------------------


@pytest.mark.anyio
async def test_handlers_join_an_existing_app_and_its_http_routes_still_answer(url: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(url.replace("ws://", "http://") + "/hello")
    assert response.status_code == 200
    assert response.text == "hello from litestar"
    async with connect(url + "/ws/echo") as ws:
        await ws.send("text")
        assert await ws.recv() == "text"
        await ws.send(b"\x00\xffbytes")
        assert await ws.recv() == b"\x00\xffbytes"


@pytest.mark.anyio
async def test_plugin_adds_the_endpoints_to_an_app(source: Container) -> None:
    app = Litestar(route_handlers=[hello], plugins=[PyflyWebSocketPlugin(source)])
    assert {"/hello", "/ws/echo", "/ws/rooms/{room_id:str}"} <= {route.path for route in app.routes}
    with serve(app) as base:
        async with connect(base + "/ws/echo") as ws:
            await ws.send("via plugin")
            assert await ws.recv() == "via plugin"


@pytest.mark.anyio
async def test_handlers_mount_under_a_router_prefix(source: Container) -> None:
    # Litestar deep-copies a Router's handlers on registration; the endpoints must survive that.
    with serve(Litestar(route_handlers=[Router("/api", route_handlers=handlers(source))])) as base:
        async with connect(base + "/api/ws/rooms/7") as ws:
            assert await ws.recv() == "int 7 /api/ws/rooms/7"


def test_create_app_by_adapter_name_builds_a_litestar_app(source: Container) -> None:
    app = pyfly_ws.create_app(source, adapter="litestar", debug=True, route_handlers=[hello])
    assert isinstance(app, Litestar)
    assert app.debug is True
    assert {"/hello", "/ws/echo"} <= {route.path for route in app.routes}
    assert isinstance(create_app(source), Litestar)
    assert LitestarAdapter.name == "litestar"


def test_create_app_rejects_an_unknown_option_by_name(source: Container) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        create_app(source, no_such_option=True)


# -- paths -------------------------------------------------------------------


@pytest.mark.anyio
async def test_path_parameters_are_converted_by_type(url: str) -> None:
    async with connect(url + "/ws/rooms/42") as ws:
        assert await ws.recv() == "int 42 /ws/rooms/42"
    async with connect(url + "/ws/files/a/b/c") as ws:
        assert await ws.recv() == "a/b/c"
    assert await _refused(url + "/ws/rooms/not-a-number") == 403


@pytest.mark.anyio
async def test_unknown_path_is_refused_and_the_server_keeps_serving(url: str) -> None:
    assert await _refused(url + "/ws/nowhere") == 403
    async with connect(url + "/ws/echo") as ws:
        await ws.send("still here")
        assert await ws.recv() == "still here"


# -- the conversation --------------------------------------------------------


@pytest.mark.anyio
async def test_server_close_code_and_reason_reach_the_client(url: str) -> None:
    async with connect(url + "/ws/bye") as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "server says bye")


@pytest.mark.anyio
async def test_client_close_code_and_reason_reach_the_handler(url: str, probe: Probe) -> None:
    async with connect(url + "/ws/listen") as ws:
        await ws.close(4002, "client says bye")
    await _wait(probe.done)
    assert probe.peer_close is not None
    assert (probe.peer_close.code, probe.peer_close.reason) == (4002, "client says bye")


@pytest.mark.anyio
async def test_subprotocol_and_accept_headers_reach_the_client(url: str) -> None:
    async with connect(url + "/ws/proto", subprotocols=[Subprotocol("chat.v1"), Subprotocol("chat.v2")]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.response is not None
        assert ws.response.headers["x-pyfly"] == "litestar"
        assert await ws.recv() == "chat.v1,chat.v2"


@pytest.mark.anyio
async def test_handler_error_closes_1011_and_logs_a_warning(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pyfly_ws")
    async with connect(url + "/ws/boom") as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1011
    warnings = [r for r in caplog.records if r.name == "pyfly_ws" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Probe.boom" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None


@pytest.mark.anyio
async def test_close_before_accept_refuses_the_handshake(url: str) -> None:
    assert await _refused(url + "/ws/refuse") == 403


@pytest.mark.anyio
async def test_on_disconnect_runs_exactly_once_after_the_client_leaves(source: Container, probe: Probe) -> None:
    with serve(create_app(source)) as base:
        async with connect(base + "/ws/listen") as ws:
            await ws.close()
        await _wait(probe.done)
    # The server has stopped: every on_disconnect that would ever run has run.
    assert probe.disconnects == 1


@pytest.mark.anyio
async def test_send_after_the_peer_left_raises_a_websocket_disconnect(url: str, probe: Probe) -> None:
    async with connect(url + "/ws/late") as ws:
        assert await ws.recv() == "ready"
    probe.client_gone.set()
    await _wait(probe.done)
    assert isinstance(probe.send_error, WebSocketDisconnect)


# -- packaging ---------------------------------------------------------------


def test_import_without_litestar_names_the_extra() -> None:
    lines = messages_without("litestar", "pyfly_ws_litestar", "litestar")
    assert len(lines) == 2
    assert all(line.startswith("unavailable:") and 'pip install "pyfly-ws[litestar]"' in line for line in lines)


@pytest.mark.anyio
async def test_the_plugin_drains_its_sessions_on_shutdown() -> None:
    await assert_drains_on_shutdown(Litestar(plugins=[PyflyWebSocketPlugin(Held)]))
