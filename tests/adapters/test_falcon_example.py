"""The example third-party Falcon adapter (examples/falcon_adapter), over a real uvicorn and ``websockets`` client."""

from __future__ import annotations

import importlib
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

import anyio
import falcon
import falcon.asgi
import httpx
import pytest
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
from pyfly_ws.config import load_adapter
from tests.support.probe import Probe
from tests.support.server import serve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "falcon_adapter"
sys.path.insert(0, str(EXAMPLE))  # the example is published on its own; here it is used from the source tree
pyfly_ws_falcon = importlib.import_module("pyfly_ws_falcon")  # not installed, so not importable for mypy

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
            self.probe.put("left", exc.code, exc.reason)
            raise

    @websocket_mapping("/json")
    async def json(self, session: WebSocketSession) -> None:
        await session.accept()
        data = await session.receive_json()
        await session.send_json({"got": data}, mode="binary")

    @websocket_mapping("/rooms/{room_id:int}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(session.path_params)

    @websocket_mapping("/files/{name}")
    async def file(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json({"file": session.path_params["name"]})

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
        except WebSocketDisconnect as exc:
            self.probe.put("send failed", type(exc).__name__)

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


async def expect_refusal(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


def test_pyproject_declares_the_adapter_as_a_third_party_would() -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "pyfly-ws-falcon"
    assert {"pyfly-ws", "falcon>=4"} <= set(project["project"]["dependencies"])
    assert project["project"]["entry-points"]["pyfly_ws.adapters"] == {"falcon": "pyfly_ws_falcon:adapter"}
    assert (EXAMPLE / "pyfly_ws_falcon" / "py.typed").is_file()
    assert load_adapter("pyfly_ws_falcon:adapter") is pyfly_ws_falcon.adapter
    assert isinstance(pyfly_ws_falcon.adapter, pyfly_ws.Adapter)
    assert pyfly_ws_falcon.adapter.name == "falcon"
    flags = {"subprotocols", "accept_headers", "close_reasons", "peer_close_codes", "http_denial", "pages", "trio"}
    assert set(pyfly_ws_falcon.CAPABILITIES) == flags


def test_routes_use_falcon_syntax_and_keep_the_core_order(source: Container) -> None:
    endpoints = pyfly_ws.discover(source)
    room = next(e for e in endpoints if e.qualname == "Endpoints.room")
    assert pyfly_ws_falcon.routes.falcon_template(room) == ("/ws/rooms/{p0:pyfly_str}", {"p0": "room_id"})
    added: list[tuple[str, Any]] = []

    class Recording(falcon.asgi.App):  # type: ignore[type-arg]
        def add_route(self, uri_template: str, resource: Any, **kwargs: Any) -> None:
            added.append((uri_template, resource))
            super().add_route(uri_template, resource, **kwargs)

    pyfly_ws_falcon.add_endpoints(Recording(), endpoints)
    # Falcon cannot hold /files/{p0} beside /files/{p0:path}: one route serves both, most specific first.
    group = dict(added)["/ws/files/{p0:pyfly_path}"]
    assert isinstance(group, pyfly_ws_falcon.routes.EndpointGroup)
    assert [e.qualname for e in group.endpoints] == ["Endpoints.file", "Endpoints.files"]
    order = [getattr(r, "endpoint", None) or r.endpoints[0] for _, r in added]
    assert order == [e for e in endpoints if e.qualname != "Endpoints.files"]


async def test_text_bytes_and_json_round_trip(source: Container) -> None:
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/echo") as ws:
            for message in ("héllo", b"\x00\xffbin", "", b"", '{"not": "decoded"}'):
                await ws.send(message)
                assert await ws.recv() == message
        async with connect(f"{base}/ws/json") as ws:
            await ws.send('{"n": [1, 2]}')
            assert await ws.recv() == b'{"got":{"n":[1,2]}}'


async def test_path_parameters_are_typed_and_checked(source: Container) -> None:
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/rooms/-12") as ws:
            assert await ws.recv() == '{"room_id":-12}'
        assert await expect_refusal(f"{base}/ws/rooms/abc") == 403
        async with connect(f"{base}/ws/files/a/b/c") as ws:
            assert await ws.recv() == '{"rest":"a/b/c"}'
        async with connect(f"{base}/ws/files/a") as ws:
            assert await ws.recv() == '{"file":"a"}'


async def test_close_code_and_reason_reach_each_side(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/bye") as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4001, "bye now")
        assert await probe.next() == ("on_disconnect", "/ws/bye")

        async with connect(f"{base}/ws/echo") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"
            await ws.close(4002, "client done")
        assert await probe.next() == ("left", 4002, "client done")
        assert await probe.next() == ("on_disconnect", "/ws/echo")

        async with connect(f"{base}/ws/rooms/1") as ws:  # the handler returns: 1000, and no invented reason
            await ws.recv()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (1000, "")
        assert await probe.next() == ("on_disconnect", "/ws/rooms/1")
    assert probe.events.empty(), "on_disconnect must run exactly once per session"


async def test_subprotocol_and_accept_headers_reach_the_client(source: Container) -> None:
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/proto", subprotocols=[Subprotocol("v1.chat"), Subprotocol("v2.chat")]) as ws:
            assert ws.subprotocol == "v2.chat"
            assert ws.response is not None
            assert ws.response.headers["x-pyfly"] == "yes"
            assert await ws.recv() == "v1.chat,v2.chat"


async def test_handler_error_closes_1011_and_only_pyfly_ws_logs_it(
    source: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/boom") as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (1011, "")
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["pyfly_ws"]
    assert "Endpoints.boom" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    assert str(warnings[0].exc_info[1]) == "boom"


async def test_refusal_and_unknown_path_give_403_quietly(
    source: Container, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        assert await expect_refusal(f"{base}/ws/refuse") == 403
        assert await expect_refusal(f"{base}/ws/nowhere") == 403
        async with httpx.AsyncClient() as client:  # plain HTTP: Falcon's 404 elsewhere, the core's 426 at an endpoint
            http = base.replace("ws://", "http://")
            assert (await client.get(f"{http}/ws/nowhere")).status_code == 404
            reply = await client.get(f"{http}/ws/echo")
            assert (reply.status_code, reply.headers["upgrade"]) == (426, "websocket")
    assert probe.events.empty(), "on_disconnect runs for accepted sessions only"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("no endpoint at this path" in r.getMessage() for r in caplog.records if r.name == "pyfly_ws.falcon")


async def test_routes_added_to_your_own_app_keep_its_http_answers(source: Container) -> None:
    app = falcon.asgi.App()
    pyfly_ws_falcon.add_routes(app, source)
    with serve(app) as base:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base.replace('ws://', 'http://')}/ws/echo")).status_code == 405


async def test_send_after_the_peer_left_raises_a_disconnect(source: Container, probe: Probe) -> None:
    with serve(pyfly_ws_falcon.create_app(source)) as base:
        async with connect(f"{base}/ws/late"):
            assert await probe.next() == ("accepted",)
        probe.gate.set()
        assert await probe.next() == ("send failed", "SessionClosedError")
        assert await probe.next() == ("on_disconnect", "/ws/late")


async def test_pyfly_create_app_takes_the_adapter_object(source: Container) -> None:
    app = pyfly_ws.create_app(source, adapter=pyfly_ws_falcon.adapter, media_type=falcon.MEDIA_JSON)
    assert isinstance(app, falcon.asgi.App)
    with serve(app) as base:
        async with connect(f"{base}/ws/echo") as ws:
            await ws.send(b"\x01")
            assert await ws.recv() == b"\x01"
    with pytest.raises(TypeError, match="bogus"):
        pyfly_ws_falcon.create_app(source, bogus=1)


class Health:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.text = "ok"


class NativeJSON:
    """The user's own Falcon WebSocket resource, which relies on Falcon's JSON media handler."""

    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        await ws.send_media({"echo": await ws.receive_media()})


async def test_add_routes_into_an_existing_falcon_app(source: Container) -> None:
    app = falcon.asgi.App()
    app.add_route("/health", Health())
    app.add_route("/native", NativeJSON())
    pyfly_ws_falcon.add_routes(app, source)
    with serve(app) as base:
        async with httpx.AsyncClient() as client:
            response = await client.get(base.replace("ws://", "http://") + "/health")
        assert (response.status_code, response.text) == (200, "ok")
        async with connect(f"{base}/native") as ws:  # the app's media handlers still decode JSON for its own code
            await ws.send('{"a": 1}')
            assert await ws.recv() == '{"echo": {"a": 1}}'
        async with connect(f"{base}/ws/echo") as ws:
            await ws.send('{"a": 1}')
            assert await ws.recv() == '{"a": 1}'
        async with connect(f"{base}/ws/files/x/y") as ws:
            assert await ws.recv() == '{"rest":"x/y"}'
