"""What the native transport answers over plain HTTP, and the handshakes it refuses before any session."""

from __future__ import annotations

import json

import pytest

from pyfly_ws.native import protocol
from tests.native.apps import build
from tests.native.serving import handshake, request, served

pytestmark = pytest.mark.anyio


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def test_plain_http_at_an_endpoint_path_is_told_to_upgrade() -> None:
    async with served(build()) as port:
        answer = await request(port, b"GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status(answer) == 426
    assert b"upgrade: websocket" in answer.lower() and b"connection: close" in answer.lower()
    assert answer.endswith(b"Upgrade Required: this is a WebSocket endpoint\n")


async def test_anything_else_is_not_found() -> None:
    async with served(build()) as port:
        assert status(await request(port, b"GET /nothing HTTP/1.1\r\n\r\n")) == 404
        assert status(await request(port, handshake("/nothing"))) == 403  # no endpoint there: refused


async def test_the_pages_are_served_with_get_and_head_and_refuse_other_methods() -> None:
    async with served(build()) as port:
        got = await request(port, b"GET /asyncapi.json HTTP/1.1\r\n\r\n")
        head = await request(port, b"HEAD /asyncapi.json HTTP/1.1\r\n\r\n")
        posted = await request(port, b"POST /asyncapi.json HTTP/1.1\r\n\r\n")
    assert status(got) == 200
    document = json.loads(got.split(b"\r\n\r\n", 1)[1])
    assert document["asyncapi"] == "3.0.0" and "/ws/echo" in json.dumps(document)
    assert status(head) == 200 and head.endswith(b"\r\n\r\n")
    assert status(posted) == 405 and b"allow: GET, HEAD" in posted


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /ws/echo HTTP/1.0\r\n\r\n", 505),
        (b"GET http://x/ws/echo HTTP/1.1\r\n\r\n", 400),
        (b"GET /ws/echo HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /%ff HTTP/1.1\r\n\r\n", 400),
        (b"GET /ws/echo HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
    ],
    ids=["request-line", "http-1.0", "absolute-target", "header-line", "bad-utf8-path", "head-too-large"],
)
async def test_a_malformed_head_gets_a_short_error(head: bytes, expected: int) -> None:
    async with served(build()) as port:
        assert status(await request(port, head)) == expected


async def test_an_endless_head_is_cut_off_at_16_kib_without_waiting_for_its_end() -> None:
    async with served(build()) as port:
        answer = await request(port, b"GET /ws/echo HTTP/1.1\r\nX: " + b"a" * 40000)
    assert status(answer) == 431


async def test_a_client_that_never_finishes_its_head_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT", 0.2)
    async with served(build()) as port:
        answer = await request(port, b"GET /ws/echo HTTP/1.1\r\n")
    assert answer == b""


async def test_a_handshake_picows_finds_malformed_is_refused_with_400() -> None:
    bad_key = handshake("/ws/echo").replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short")
    async with served(build()) as port:
        assert status(await request(port, bad_key)) == 400
