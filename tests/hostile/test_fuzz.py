"""Hypothesis fuzzing of the handshake and of messages, against each adapter behind a real uvicorn.

Every generated handshake gets an HTTP answer or a closed connection within a
bound (never a hang, never an application error), every generated message gets
the close code the contract promises, and the server keeps serving afterwards.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from pyfly_ws import JSONMode, Limits, WebSocketSession, create_app, request_mapping, rest_controller, websocket_mapping
from tests.support.server import serve

LIMIT = 64 * 1024
DEEP = -1  # expected outcome of deeply nested JSON: 1007 or an echo (see the check)
TIMEOUT = 10.0
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@rest_controller
@request_mapping("/fuzz")
class FuzzController:
    """A text echo, a JSON echo (text and binary frames) and a bytes echo, with 64 KiB messages at most."""

    @websocket_mapping("/text", limits=Limits(max_message_size=LIMIT))
    async def text(self, session: WebSocketSession) -> None:
        await session.accept(session.subprotocols[0] if session.subprotocols else None)
        async for text in session.iter_text():
            await session.send_text(text)

    @websocket_mapping("/json/{mode}", limits=Limits(max_message_size=LIMIT))
    async def json_echo(self, session: WebSocketSession) -> None:
        mode: JSONMode = "binary" if session.path_params["mode"] == "binary" else "text"
        await session.accept()
        async for value in session.iter_json(mode):
            await session.send_json(value, mode)


@pytest.fixture
def base(adapter_name: str, caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """The fuzz app on ``adapter_name`` behind uvicorn; fails if anything logged an error meanwhile."""
    caplog.set_level(logging.WARNING)
    with serve(create_app(FuzzController, adapter_name)) as url:
        yield url
        _round_trip(url)  # still serving
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def _round_trip(base: str) -> None:
    with connect(f"{base}/fuzz/text", open_timeout=TIMEOUT) as ws:
        ws.send("still here")
        assert ws.recv(timeout=TIMEOUT) == "still here"


# -- the handshake ---------------------------------------------------------------

_byte = st.integers(0, 255)
_percent = st.lists(_byte, max_size=40).map(lambda bs: "".join(f"%{b:02X}" for b in bs))
_segment = st.one_of(
    st.sampled_from(["fuzz", "text", "json", "binary", "..", ".", "", "%2F", "%00"]),
    st.text(alphabet="abcxyz0123456789-_~", max_size=20),
    _percent,
)
_path = st.one_of(
    st.sampled_from(["/fuzz/text", "/fuzz/json/text", "/fuzz/json/binary"]),  # real endpoints: 101 or 403
    st.lists(_segment, max_size=8).map(lambda parts: "/" + "/".join(parts)),
    st.integers(1, 9000).map(lambda n: "/" + "a" * n),  # overlong
    st.binary(min_size=1, max_size=30).map(lambda raw: "/" + raw.decode("latin-1")),  # raw, non-UTF-8
)
_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=12)
_header_value = st.one_of(
    st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.integers(1, 60_000).map(lambda n: b"v" * n),  # huge
)


@st.composite
def _handshakes(draw: st.DrawFn) -> bytes:
    path = draw(_path)
    query = draw(st.one_of(st.just(""), _percent, st.text(alphabet="a=&%;+", max_size=30)))
    target = path.encode("latin-1") + (b"?" + query.encode("latin-1") if query else b"")
    headers = [
        (b"Host", b"127.0.0.1"),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"Sec-WebSocket-Version", b"13"),
    ]
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from([b"X-Fuzz", b"Cookie", b"Origin", b"X-Twice", b"Sec-WebSocket-Protocol"]))
        headers.append((name, draw(_header_value)))
    if draw(st.booleans()):
        protocols = draw(st.lists(st.one_of(_token, st.just(""), st.just(" ")), max_size=6))
        headers.append((b"Sec-WebSocket-Protocol", ",".join(protocols).encode()))
    lines = [b"GET " + target + b" HTTP/1.1", *(name + b": " + value for name, value in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"


SERVER_LINE_LIMIT = 8192
"""uvicorn's websockets-sansio parser neither answers nor closes a request with a longer header line."""
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _malformed(request: bytes) -> bool:
    """Whether ``request`` is not valid HTTP/1.1, so that it never reaches the application.

    A line over the server's limit, a control character in the request line or a header, or a
    space inside the target. uvicorn answers such a request with 400 when it parses HTTP with
    httptools, but with h11 (no httptools installed) it neither answers nor closes: measured with
    a bare ASGI app, so this is the server's behaviour, not pyfly-ws's.
    """
    lines = request.split(b"\r\n")
    return (
        max(len(line) for line in lines) > SERVER_LINE_LIMIT
        or any(_CONTROL.search(line.replace(b"\t", b"")) for line in lines)
        or len(lines[0].split(b" ")) != 3
    )


def _answer(base: str, request: bytes) -> bytes:
    """The status line the server answers ``request`` with (``b""`` if it just closed the connection).

    ``b"silent"`` for a malformed request the server leaves unanswered (see :func:`_malformed`).
    """
    oversized = _malformed(request)
    host, port = base.removeprefix("ws://").split(":")
    with socket.create_connection((host, int(port)), timeout=0.5 if oversized else TIMEOUT) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        except TimeoutError:
            if oversized:
                return b"silent"
            raise
        response = b""
        while b"\r\n" not in response:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                return b""
            except TimeoutError:
                if oversized:
                    return b"silent"
                raise
            if not chunk:
                return b""
            response += chunk
        return response.split(b"\r\n", 1)[0]


def test_handshake_fuzzing(base: str) -> None:
    """Fuzzed paths, queries, headers and subprotocol lists: always an HTTP answer or a clean close, in time."""
    seen: dict[bytes, int] = {}

    @FUZZ
    @given(_handshakes())
    def check(request: bytes) -> None:
        status = _answer(base, request)
        if status == b"silent":
            seen[b"silent"] = seen.get(b"silent", 0) + 1
            return
        assert status == b"" or status.startswith(b"HTTP/1.1 "), status
        code = status[9:12]
        assert code == b"" or code in (b"101", b"400", b"403", b"404", b"413", b"426", b"431"), status
        seen[code] = seen.get(code, 0) + 1

    check()
    print(f"handshake answers by status: {sorted(seen.items())}")
    assert seen.get(b"101", 0) > 0  # real endpoints accepted fuzzed queries, headers and subprotocols
    assert seen.get(b"403", 0) > 0  # unknown paths and bad origins were refused, not only malformed requests


# -- messages ----------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


Example = tuple[str, str | bytes, int | None]


@st.composite
def _messages(draw: st.DrawFn) -> Example:
    """``(endpoint, message, expected close code)``; ``None`` means the message is echoed."""
    kind = draw(
        st.sampled_from(["valid", "wrong_frame", "invalid_json", "invalid_utf8", "deep", "oversized", "binary_ok"])
    )
    if kind == "valid":
        return "/fuzz/json/text", json.dumps(draw(_json)), None
    if kind == "binary_ok":
        return "/fuzz/json/binary", json.dumps(draw(_json)).encode(), None
    if kind == "wrong_frame":
        wrong: list[Example] = [
            ("/fuzz/json/text", b"{}", 1003),
            ("/fuzz/json/binary", "{}", 1003),
            ("/fuzz/text", b"x", 1003),
        ]
        return draw(st.sampled_from(wrong))
    if kind == "invalid_json":
        text = draw(st.text(max_size=40).filter(lambda t: not _is_json(t)))
        return "/fuzz/json/text", text, 1007
    if kind == "invalid_utf8":
        return "/fuzz/json/binary", draw(st.sampled_from([b"\xff", b'{"a": "\xc3\x28"}', b"\xed\xa0\x80"])), 1007
    if kind == "deep":
        depth = draw(st.integers(2_000, 30_000))  # at most 60,000 bytes: under the 64 KiB limit
        return "/fuzz/json/text", "[" * depth + "]" * depth, DEEP
    size = draw(st.integers(LIMIT + 1, 4 * LIMIT))
    oversized: list[Example] = [("/fuzz/text", "x" * size, 1009), ("/fuzz/json/binary", b"1" * size, 1009)]
    return draw(st.sampled_from(oversized))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _exchange(base: str, path: str, message: str | bytes) -> tuple[Any, int | None]:
    """Send ``message``; ``(reply, None)`` if echoed, else ``(None, close code)``."""
    with connect(f"{base}{path}", open_timeout=TIMEOUT, max_size=None) as ws:
        ws.send(message)
        try:
            return ws.recv(timeout=TIMEOUT), None
        except ConnectionClosed as closed:
            return None, closed.rcvd.code if closed.rcvd else 1006


def test_message_fuzzing(base: str) -> None:
    """Wrong frame types, invalid JSON and UTF-8, deep nesting, oversized messages: the promised close code."""
    outcomes: dict[int | None, int] = {}

    @FUZZ
    @given(_messages())
    def check(example: Example) -> None:
        path, message, expected = example
        reply, code = _exchange(base, path, message)
        if expected == DEEP:  # 1007 past the interpreter's recursion limit, else a faithful echo
            assert code == 1007 or (code is None and reply == message), (code, len(message))
        else:
            assert code == expected, (path, message[:80], code)
            if expected is None:
                assert json.loads(reply) == json.loads(message)
        outcomes[code] = outcomes.get(code, 0) + 1

    check()
    print(f"message outcomes by close code: {sorted(outcomes.items(), key=str)}")
    assert set(outcomes) == {None, 1003, 1007, 1009}
