"""The Quart adapter over a real uvicorn server and a real ``websockets`` client.

Quart reports a client disconnect by cancelling the handler's task. Under the
recorder pyfly-ws installs, a pyfly-ws view is told of it instead; in an
application whose handler class cannot be extended, the cancellation is all
there is. The disconnect tests run both ways (``way``), and check that the core
sees a ``WebSocketDisconnect`` (with the client's close code where it can be
known) and that ``on_disconnect`` runs exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import httpx
import pytest
from quart import Quart, websocket
from quart.asgi import ASGIWebsocketConnection
from quart.typing import ResponseTypes
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

import pyfly_ws
import pyfly_ws_quart
from pyfly_ws import Container, WebSocketDisconnect, WebSocketSession, request_mapping, rest_controller
from pyfly_ws import websocket_mapping as ws
from pyfly_ws_quart.recorder import DisconnectRecorder
from pyfly_ws_quart.view import supervise
from tests.support.blocked import messages_without
from tests.support.drain import Held, assert_drains_on_shutdown
from tests.support.probe import Probe
from tests.support.server import serve

pytestmark = pytest.mark.anyio


@rest_controller
@request_mapping("/ws")
class Endpoints:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    @ws("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            while True:
                await session.send(await session.receive())
        except WebSocketDisconnect as exc:
            self.probe.put("left", type(exc).__name__, exc.code, exc.reason)
            raise

    @ws("/rooms/{room_id:int}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        room_id = session.path_params["room_id"]
        await session.send_text(f"{type(room_id).__name__} {room_id}")

    @ws("/files/{p:path}")
    async def files(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(session.path_params["p"])

    @ws("/bye")
    async def bye(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4001, "server says bye")

    @ws("/proto")
    async def proto(self, session: WebSocketSession) -> None:
        await session.accept(session.subprotocols[-1], {"X-Pyfly": "yes"})
        await session.send(",".join(session.subprotocols))

    @ws("/boom")
    async def boom(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("boom")

    @ws("/refuse")
    async def refuse(self, session: WebSocketSession) -> None:
        await session.close()

    @ws("/flood")
    async def flood(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:  # busy sending: Quart's cancellation lands inside send()
            await session.send_text("tick")

    @ws("/patient")
    async def patient(self, session: WebSocketSession) -> None:
        await session.accept()
        with anyio.move_on_after(0.05) as waited:  # a cancellation of our own, not a disconnect
            await session.receive()
        await session.send_text(f"timed out: {waited.cancelled_caught}")
        await session.send(await session.receive())

    @ws("/late")
    async def late(self, session: WebSocketSession) -> None:
        await session.accept()
        self.probe.put("accepted")
        await anyio.to_thread.run_sync(self.probe.gate.wait, 5.0)
        try:
            await session.send("too late")
        except WebSocketDisconnect as exc:  # the family: SessionClosedError is one
            self.probe.put("send failed", type(exc).__name__, exc.code)

    @ws("/task")
    async def task(self, session: WebSocketSession) -> None:
        await session.accept()
        running = asyncio.current_task()
        assert running is not None
        await session.send_text(getattr(running.get_coro(), "__qualname__", ""))

    async def on_disconnect(self, session: WebSocketSession) -> None:
        await asyncio.sleep(0)  # an awaiting hook must not be cut short by Quart's cancellation
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


class Unrelated:
    """A websocket handler class pyfly-ws cannot extend: it serves through Quart's own, so disconnects cancel."""

    def __init__(self, app: Quart, scope: Any) -> None:
        self.inner = ASGIWebsocketConnection(app, scope)

    async def __call__(self, receive: Any, send: Any) -> None:
        await self.inner(receive, send)


@pytest.fixture(params=["told", "cancelled"])
def way(request: pytest.FixtureRequest) -> str:
    """How the view learns of a disconnect: told by the recorder, or by Quart's cancellation alone."""
    return str(request.param)


def app_for(source: Container, way: str) -> Quart:
    app = pyfly_ws_quart.create_app(source)
    if way == "cancelled":
        app.asgi_websocket_class = Unrelated
    return app


def code_for(way: str, code: int) -> int:
    """The close code the handler sees: the client's when told, 1005 (unknowable) from a cancellation."""
    return code if way == "told" else 1005


async def refused_status(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


def existing_app() -> Quart:
    app = Quart(__name__)

    @app.get("/health")
    async def health() -> str:
        return "ok"

    return app


@pytest.mark.parametrize("form", ["register", "blueprint"])
async def test_mounts_into_an_existing_quart_app(source: Container, form: str) -> None:
    app = existing_app()
    prefix = "/api" if form == "blueprint" else ""
    if form == "register":
        pyfly_ws_quart.register(app, source)
    else:
        app.register_blueprint(pyfly_ws_quart.blueprint(source, name="sockets", url_prefix=prefix))
    assert issubclass(app.asgi_websocket_class, DisconnectRecorder)
    with serve(app) as base:
        async with httpx.AsyncClient() as client:
            response = await client.get(base.replace("ws://", "http://") + "/health")
        assert (response.status_code, response.text) == (200, "ok")
        async with connect(f"{base}{prefix}/ws/echo") as socket:
            await socket.send("héllo")
            assert await socket.recv() == "héllo"
            for payload in (b"\x00\xffbin", b"", ""):
                await socket.send(payload)
                assert await socket.recv() == payload
        assert await refused_status(f"{base}/nowhere") == 404  # the app's own answer is kept


async def test_a_told_session_runs_in_quarts_own_task_and_a_cancelled_one_in_a_task_of_its_own(
    source: Container, way: str
) -> None:
    with serve(app_for(source, way)) as base:
        async with connect(f"{base}/ws/task") as socket:
            running = await socket.recv()
    assert running == ("ASGIWebsocketConnection.handle_websocket" if way == "told" else "run_session")


async def test_a_session_the_client_left_ends_as_a_hand_written_view_does(source: Container, probe: Probe) -> None:
    app = existing_app()
    finished: list[str] = []

    @app.websocket("/mine")
    async def mine() -> None:
        await websocket.accept()
        await websocket.receive()

    @app.after_websocket
    async def after(response: ResponseTypes | None) -> ResponseTypes | None:
        finished.append(websocket.path)
        return response

    pyfly_ws_quart.register(app, source)
    with serve(app) as base:
        for path in ("/mine", "/ws/echo"):
            async with connect(f"{base}{path}") as socket:
                await socket.close(4006, "left")
        assert await probe.next() == ("left", "WebSocketDisconnect", 4006, "left")
        assert await probe.next() == ("on_disconnect", "/ws/echo")
    assert finished == [], "Quart runs no after_websocket function for a view whose client left"


async def test_a_hand_written_view_beside_the_endpoints_is_still_cancelled(source: Container) -> None:
    app = existing_app()
    seen: asyncio.Queue[str] = asyncio.Queue()

    @app.websocket("/mine")
    async def mine() -> None:
        await websocket.accept()
        try:
            await websocket.receive()
        except asyncio.CancelledError:
            seen.put_nowait("cancelled")
            raise
        seen.put_nowait("received, not cancelled")

    pyfly_ws_quart.register(app, source)
    with serve(app) as base:
        async with connect(f"{base}/mine") as socket:
            await socket.close(4005, "bye")
        assert await asyncio.wait_for(seen.get(), 5) == "cancelled"
        async with connect(f"{base}/ws/echo") as socket:  # and the endpoints beside it are told
            await socket.send("still")
            assert await socket.recv() == "still"


def test_a_custom_websocket_class_keeps_working(source: Container) -> None:
    class Custom(ASGIWebsocketConnection):
        pass

    app = existing_app()
    app.asgi_websocket_class = Custom
    pyfly_ws_quart.register(app, source)
    assert issubclass(app.asgi_websocket_class, Custom)
    assert issubclass(app.asgi_websocket_class, DisconnectRecorder)
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["pyfly_ws.Endpoints_room"] == "/ws/rooms/<room_id>"
    assert rules["pyfly_ws.Endpoints_files"] == "/ws/files/<path:p>"


async def test_path_parameters_are_typed_and_checked(source: Container) -> None:
    with serve(pyfly_ws_quart.create_app(source)) as base:
        async with connect(f"{base}/ws/rooms/-12") as socket:
            assert await socket.recv() == "int -12"
        assert await refused_status(f"{base}/ws/rooms/abc") == 403
        async with connect(f"{base}/ws/files/a/b/c") as socket:
            assert await socket.recv() == "a/b/c"
        for unknown in ("/nowhere", "/ws/echo/", "/ws//echo"):  # no redirects, no 404 page: refused
            assert await refused_status(base + unknown) == 403
        async with httpx.AsyncClient() as client:
            response = await client.get(base.replace("ws://", "http://") + "/ws/echo")
        assert (response.status_code, response.headers["upgrade"]) == (426, "websocket")


async def test_close_code_and_reason_reach_each_side(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_quart.create_app(source)) as base:
        async with connect(f"{base}/ws/bye") as socket:
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            assert (socket.close_code, socket.close_reason) == (4001, "server says bye")
        assert await probe.next() == ("on_disconnect", "/ws/bye")


async def test_the_clients_close_reaches_the_handler(source: Container, probe: Probe, way: str) -> None:
    with serve(app_for(source, way)) as base:
        async with connect(f"{base}/ws/echo") as socket:
            await socket.send("ping")
            assert await socket.recv() == "ping"
            await socket.close(4002, "client done")
        reason = "client done" if way == "told" else ""
        assert await probe.next() == ("left", "WebSocketDisconnect", code_for(way, 4002), reason)
        assert await probe.next() == ("on_disconnect", "/ws/echo")
    assert probe.events.empty(), "on_disconnect must run exactly once per session"


async def test_on_disconnect_runs_once_when_the_client_leaves_a_busy_sender(
    source: Container, probe: Probe, way: str
) -> None:
    with serve(app_for(source, way)) as base:
        for _ in range(3):
            # max_queue=None: a client that stops reading would stall the closing handshake.
            async with connect(f"{base}/ws/flood", max_queue=None) as socket:
                assert await socket.recv() == "tick"
                await socket.close(4003, "enough")
            assert await probe.next() == ("on_disconnect", "/ws/flood")
    assert probe.events.empty(), "on_disconnect must run exactly once per session"


async def test_a_timeout_in_the_handler_is_not_a_disconnect(source: Container, probe: Probe, way: str) -> None:
    with serve(app_for(source, way)) as base:
        async with connect(f"{base}/ws/patient") as socket:
            assert await socket.recv() == "timed out: True"
            await socket.send(b"still here")
            assert await socket.recv() == b"still here"
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            assert socket.close_code == 1000
        assert await probe.next() == ("on_disconnect", "/ws/patient")


async def test_subprotocol_and_accept_headers_reach_the_client(source: Container) -> None:
    with serve(pyfly_ws_quart.create_app(source)) as base:
        offered = [Subprotocol("v1.chat"), Subprotocol("v2.chat")]
        async with connect(f"{base}/ws/proto", subprotocols=offered) as socket:
            assert socket.subprotocol == "v2.chat"
            assert socket.response is not None
            assert socket.response.headers["x-pyfly"] == "yes"
            assert await socket.recv() == "v1.chat,v2.chat"


async def test_handler_error_closes_1011_and_logs_a_warning(
    source: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pyfly_ws")
    with serve(pyfly_ws_quart.create_app(source)) as base:
        async with connect(f"{base}/ws/boom") as socket:
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            assert socket.close_code == 1011
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Endpoints.boom" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None
    assert str(warnings[0].exc_info[1]) == "boom"


async def test_close_before_accept_refuses_with_403(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_quart.create_app(source)) as base:
        assert await refused_status(f"{base}/ws/refuse") == 403
    assert probe.events.empty(), "on_disconnect runs for accepted sessions only"


async def test_send_after_the_peer_left_raises_a_disconnect(source: Container, probe: Probe, way: str) -> None:
    with serve(app_for(source, way)) as base:
        async with connect(f"{base}/ws/late") as socket:
            assert await probe.next() == ("accepted",)
            await socket.close(4004, "gone")
        probe.gate.set()
        assert await probe.next() == ("send failed", "SessionClosedError", code_for(way, 4004))
        assert await probe.next() == ("on_disconnect", "/ws/late")


async def test_pyfly_create_app_builds_a_quart_app(source: Container) -> None:
    app = pyfly_ws.create_app(source, adapter="quart", config={"PYFLY": "yes"})
    assert isinstance(app, Quart)
    assert app.config["PYFLY"] == "yes"
    with serve(app) as base:
        async with connect(f"{base}/ws/echo") as socket:
            await socket.send("via pyfly_ws")
            assert await socket.recv() == "via pyfly_ws"
    with pytest.raises(TypeError, match="bogus"):
        pyfly_ws_quart.create_app(source, bogus=1)
    assert pyfly_ws_quart.adapter.name == "quart"
    assert isinstance(pyfly_ws_quart.adapter, pyfly_ws.Adapter)


class StubConnection:
    """No disconnect recorded: any cancellation of the view is genuine."""

    def departure(self) -> None:
        return None


async def test_a_genuine_cancellation_reaches_the_handler_and_is_awaited() -> None:
    started, seen = asyncio.Event(), []

    async def session() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("handler finished")

    view = asyncio.ensure_future(supervise(StubConnection(), session()))  # type: ignore[arg-type]
    await started.wait()
    view.cancel()
    with pytest.raises(asyncio.CancelledError):
        await view
    assert seen == ["handler finished"]


def test_import_without_quart_names_the_extra() -> None:
    lines = messages_without("quart", "pyfly_ws_quart", "quart")
    assert len(lines) == 2
    assert all(line.startswith("unavailable:") and 'pip install "pyfly-ws[quart]"' in line for line in lines)


async def test_register_drains_its_sessions_on_shutdown() -> None:
    app = Quart(__name__)
    pyfly_ws_quart.register(app, Held)
    await assert_drains_on_shutdown(app)
