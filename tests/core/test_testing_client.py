"""``pyfly_ws.testing``: the same session assertions in-process (``ASGIClient``) and over uvicorn (``URLClient``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Literal

import pytest

from pyfly_ws import WebSocketDisconnect, WebSocketSession, create_app, request_mapping, rest_controller
from pyfly_ws import websocket_mapping as ws_map
from pyfly_ws.adapter import Receive, Scope, Send
from pyfly_ws.testing import ASGIClient, HandshakeRefused, TestSession, URLClient
from tests.core.test_config import BLOCKER
from tests.support.server import serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio
Client = ASGIClient | URLClient


@rest_controller
@request_mapping("/t")
class Probe:
    ended: ClassVar[list[tuple[int, str]]] = []  # (code, reason) of each client disconnect the handlers saw

    @ws_map("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        offered = session.subprotocols
        await session.accept(offered[-1] if offered else None, {"x-probe": "yes"})
        try:
            while True:
                await session.send(await session.receive())
        except WebSocketDisconnect as exc:
            Probe.ended.append((exc.code, exc.reason))

    @ws_map("/json")
    async def json(self, session: WebSocketSession) -> None:
        mode: Literal["text", "binary"] = "binary" if session.query_params.get("mode") == "binary" else "text"
        await session.accept()
        await session.send_json({"got": await session.receive_json(mode)}, mode)

    @ws_map("/facts/{name}")
    async def facts(self, session: WebSocketSession) -> None:
        await session.accept()
        query, token = session.query_params.getlist("q"), session.headers["x-token"]
        await session.send_json({"name": session.path_params["name"], "q": query, "token": token})

    @ws_map("/closes")
    async def closes(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("last words")
        await session.close(4001, "see you")

    @ws_map("/refuses")
    async def refuses(self, session: WebSocketSession) -> None:
        await session.close()


async def denial_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "websocket"  # no lifespan support: tolerated in-process, as by uvicorn
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"token")]})
    await send({"type": "websocket.http.response.body", "body": b"no ", "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b"token"})


async def accepts_then_ends(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        if scope["path"] == "/raise":
            raise ValueError("boom")


@pytest.fixture(params=["asgi", "url"])
def kind(request: pytest.FixtureRequest) -> str:
    Probe.ended.clear()
    return str(request.param)


@asynccontextmanager
async def client_for(kind: str, app: Any = None) -> AsyncIterator[Client]:
    app = app or create_app(Probe, "asgi")
    if kind == "asgi":
        async with ASGIClient(app) as client:
            yield client
    else:
        with serve(app) as base:
            async with URLClient(base) as url_client:
                yield url_client


async def test_text_bytes_and_send(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        assert isinstance(ws, TestSession)
        assert ws.close_code is None
        await ws.send_text("héllo")
        assert await ws.receive_text() == "héllo"
        await ws.send_bytes(b"\x00\xff")
        assert await ws.receive_bytes() == b"\x00\xff"
        await ws.send("t")
        await ws.send(b"b")
        assert [await ws.receive(), await ws.receive()] == ["t", b"b"]


async def test_wrong_kind_raises_type_error_naming_it(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        await ws.send_bytes(b"raw")
        with pytest.raises(TypeError, match=r"expected a text message, got a binary message b'raw'"):
            await ws.receive_text()
        await ws.send_text("txt")
        with pytest.raises(TypeError, match=r"expected a binary message, got a text message 'txt'"):
            await ws.receive_bytes()


@pytest.mark.parametrize("mode", ["text", "binary"])
async def test_json_both_modes(kind: str, mode: Literal["text", "binary"]) -> None:
    async with client_for(kind) as client, client.connect("/t/json", query={"mode": mode}) as ws:
        await ws.send_json({"é": [1, None]}, mode=mode)
        assert await ws.receive_json(mode=mode) == {"got": {"é": [1, None]}}
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        await ws.send_json({"a": "é"}, mode=mode)
        expected: str | bytes = '{"a":"é"}' if mode == "text" else '{"a":"é"}'.encode()
        assert await ws.receive() == expected  # compact, not ASCII-escaped


async def test_handshake_facts_reach_the_handler(kind: str) -> None:
    async with (
        client_for(kind) as client,
        client.connect("/t/facts/caf%C3%A9", query="q=a+b&q=2", headers=[("X-Token", "t1")]) as ws,
    ):
        assert await ws.receive_json() == {"name": "café", "q": ["a b", "2"], "token": "t1"}


async def test_subprotocol_and_response_headers(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo", subprotocols=["v1", "v2"]) as ws:
        assert ws.subprotocol == "v2"
        assert ws.response_headers["X-Probe"] == "yes"
        assert ws.response_headers["sec-websocket-protocol"] == "v2"
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        assert ws.subprotocol is None


async def test_server_close_code_and_reason(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/closes") as ws:
        assert await ws.receive_text() == "last words"  # sent before the close: still delivered
        for _ in range(2):
            with pytest.raises(WebSocketDisconnect) as info:
                await ws.receive()
            assert (info.value.code, info.value.reason) == (4001, "see you")
        assert (ws.close_code, ws.close_reason) == (4001, "see you")
        assert await ws.wait_closed() == (4001, "see you")
        with pytest.raises(WebSocketDisconnect):
            await ws.send_text("too late")


async def test_wait_closed_discards_queued_messages(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/closes") as ws:
        assert await ws.wait_closed() == (4001, "see you")


async def test_client_close_code_and_reason_reach_the_handler(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        await ws.send_text("x")
        assert await ws.receive_text() == "x"
        await ws.close(4321, "bye now")
        await ws.close()  # idempotent
        assert ws.close_code == 4321  # the server echoed the close
        with pytest.raises(WebSocketDisconnect):
            await ws.receive()
    await eventually(lambda: Probe.ended == [(4321, "bye now")])


async def test_leaving_the_block_closes_with_1000(kind: str) -> None:
    async with client_for(kind) as client:
        async with client.connect("/t/echo") as ws:
            await ws.send_text("x")
            await ws.receive_text()
        await eventually(lambda: Probe.ended == [(1000, "")])


async def test_abort_is_seen_as_1006(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        await ws.send_text("x")
        await ws.receive_text()
        await ws.abort()
        assert ws.close_code == 1006
    # uvicorn (websockets-sansio and wsproto) reports a connection dropped after the handshake as 1005
    await eventually(lambda: Probe.ended in ([(1006, "")], [(1005, "")] if kind == "url" else []))


async def test_receive_nothing(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        await ws.receive_nothing()
        await ws.send_text("unexpected")
        with pytest.raises(AssertionError, match="expected no message within 2 s, got a text message 'unexpected'"):
            await ws.receive_nothing(timeout=2)
    async with client_for(kind) as client, client.connect("/t/closes") as ws:
        await ws.receive_text()
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_nothing(timeout=2)
        assert info.value.code == 4001


async def test_timeouts_say_what_was_awaited(kind: str) -> None:
    async with client_for(kind) as client, client.connect("/t/echo") as ws:
        with pytest.raises(TimeoutError, match=r"0\.05 s waiting for a message from the server"):
            await ws.receive_text(timeout=0.05)
        with pytest.raises(TimeoutError, match="waiting for the server to close the connection"):
            await ws.wait_closed(timeout=0.05)
        await ws.send_text("still open")  # a timed-out receive loses nothing
        assert await ws.receive_text() == "still open"


@pytest.mark.parametrize("path", ["/t/refuses", "/t/nowhere"])
async def test_refusal_is_403(kind: str, path: str) -> None:
    async with client_for(kind) as client:
        with pytest.raises(HandshakeRefused) as info:
            async with client.connect(path):
                pytest.fail("the handshake should have been refused")
    assert info.value.status == 403
    assert "HTTP 403" in str(info.value)


async def test_denial_response_is_passed_on(kind: str) -> None:
    async with client_for(kind, denial_app) as client:
        with pytest.raises(HandshakeRefused) as info:
            async with client.connect("/anything"):
                pytest.fail("the handshake should have been refused")
    assert (info.value.status, info.value.headers["x-why"], info.value.body) == (401, "token", b"no token")


async def test_app_ending_after_accept_without_close_drops_the_connection_like_uvicorn(kind: str) -> None:
    async with client_for(kind, accepts_then_ends) as client:
        for path in ("/return", "/raise"):
            async with client.connect(path) as ws:
                assert await ws.wait_closed() == (1006, "")
                raised = kind == "asgi" and path == "/raise"  # kept in-process only
                assert isinstance(ws.app_exception, ValueError) if raised else ws.app_exception is None


async def test_in_process_app_raising_before_accept_is_a_500() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            raise LookupError("no route")

    async with ASGIClient(app) as client:
        with pytest.raises(HandshakeRefused) as info:
            async with client.connect("/"):
                pytest.fail("the handshake should have been refused")
    assert info.value.status == 500
    assert isinstance(info.value.__cause__, LookupError)


async def test_in_process_scope_and_lifespan_state() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                scope["state"]["db"] = "up"
                await send({"type": "lifespan.startup.complete"})
            seen.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        with pytest.raises(OSError, match="client is gone"):
            await send({"type": "websocket.send", "text": "late"})
        seen.append(await receive())

    async with ASGIClient(app, client=("10.0.0.1", 1234), host="example.test") as client:
        async with client.connect("/a%20b", query={"x": "1 2"}, subprotocols=["p"]) as ws:
            await ws.close(4000, "done")
        scope = seen[0]
    assert seen[1:] == [{"type": "websocket.disconnect", "code": 4000, "reason": "done"}] * 2 + ["shutdown"]
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/a b", b"/a%20b", b"x=1+2")
    assert (scope["client"], scope["server"]) == (("10.0.0.1", 1234), ("example.test", 80))
    assert scope["state"] == {"db": "up"}
    assert (b"host", b"example.test") in scope["headers"]
    assert (b"sec-websocket-protocol", b"p") in scope["headers"]
    assert scope["subprotocols"] == ["p"]
    assert "websocket.http.response" in scope["extensions"]


async def test_lifespan_hooks_and_startup_failure() -> None:
    events: list[str] = []
    up, down = (lambda: events.append("up")), (lambda: events.append("down"))
    app = create_app(Probe, "asgi", on_startup=[up], on_shutdown=[down])
    async with ASGIClient(app):
        assert events == ["up"]
    assert events == ["up", "down"]

    def fail() -> None:
        raise ValueError("database unreachable")

    with pytest.raises(RuntimeError, match=r"startup failed: .*database unreachable"):
        async with ASGIClient(create_app(Probe, "asgi", on_startup=[fail])):
            pytest.fail("startup should have failed")
    no_lifespan = ASGIClient(create_app(Probe, "asgi", on_startup=[fail]), lifespan=False)
    async with no_lifespan as client, client.connect("/t/echo") as ws:  # lifespan=False skips the startup
        await ws.send_text("ok")
        assert await ws.receive_text() == "ok"


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_in_process_client_on_trio() -> None:
    async with ASGIClient(create_app(Probe, "asgi")) as client:
        async with client.connect("/t/echo") as ws:
            await ws.send_json([1, 2])
            assert await ws.receive_json() == [1, 2]
            await ws.receive_nothing()
            await ws.close(4002, "trio")
        async with client.connect("/t/closes") as ws:
            assert await ws.wait_closed() == (4001, "see you")
    assert Probe.ended[-1] == (4002, "trio")


def test_connect_needs_an_entered_client() -> None:
    with pytest.raises(RuntimeError, match="enter the client first"):
        ASGIClient(create_app(Probe, "asgi")).connect("/t/echo")


def test_without_websockets_the_in_process_client_works_and_url_client_names_the_extra() -> None:
    code = BLOCKER.replace('"fastapi"}', '"fastapi", "websockets"}') + textwrap.dedent(
        """
        import anyio
        from pyfly_ws import create_app
        from pyfly_ws.testing import ASGIClient, URLClient
        from examples.echo import EchoController

        async def main():
            async with ASGIClient(create_app(EchoController, "asgi")) as client, client.connect("/ws/echo") as ws:
                await ws.send_text("ok")
                print(await ws.receive_text())

        anyio.run(main)
        assert not [name for name in sys.modules if name.startswith("websockets")]
        try:
            URLClient("ws://127.0.0.1:1")
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    expected = 'URLClient needs the websockets client: pip install "pyfly-ws[testing]"'
    assert result.stdout.splitlines() == ["ok", expected], result.stderr
