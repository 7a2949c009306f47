"""The origin check on a real handshake: every host form, and a malformed ``Origin`` refused without a traceback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from pyfly_ws import WebSocketSession, create_app, request_mapping, rest_controller, websocket_mapping
from tests.support.server import serve

pytestmark = pytest.mark.anyio


@rest_controller
@request_mapping("/ws")
class Hello:
    @websocket_mapping("/hello")
    async def hello(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(f"hello {session.headers.get('host')}")


@pytest.fixture
def base(adapter_name: str) -> Iterator[str]:
    with serve(create_app(Hello, adapter_name)) as url:
        yield url


def loopback(base: str) -> socket.socket:
    """A connection to the test server on 127.0.0.1, whatever host the URL names."""
    return socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))


@pytest.mark.parametrize("host", ["[::1]", "localhost", "LocalHost.", "127.0.0.1"])
async def test_a_same_origin_handshake_is_allowed_for_every_host_form(base: str, host: str) -> None:
    port = base.rsplit(":", 1)[1]
    uri = f"ws://{host}:{port}/ws/hello"
    async with connect(uri, sock=loopback(base), origin=Origin(f"http://{host}:{port}")) as ws:
        assert await ws.recv() == f"hello {host.lower()}:{port}"  # the client writes the host in lower case


@pytest.mark.parametrize("origin", ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://[::1"])
async def test_a_malformed_origin_is_refused_with_403_and_one_info_line(
    base: str, origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{base}/ws/hello", origin=Origin(origin)):
            pass
    assert refused.value.response.status_code == 403
    ours = [r for r in caplog.records if r.name.startswith("pyfly_ws")]
    assert [(r.levelno, r.getMessage()) for r in ours if "origin" in r.getMessage()] == [
        (logging.INFO, f"Hello.hello: refused the handshake from origin {origin!r} (malformed origin: {why(origin)})")
    ]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def why(origin: str) -> str:
    if origin.endswith("99999"):
        return "Port out of range 0-65535"
    if origin.endswith("abc"):
        return "Port could not be cast to integer value as 'abc'"
    return "Invalid IPv6 URL"
