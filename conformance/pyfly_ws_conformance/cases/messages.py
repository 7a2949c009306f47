"""Messages: text, bytes, JSON in both modes, empty, non-ASCII, 1 MiB, and the wrong kind."""

from __future__ import annotations

import json

from pyfly_ws import WebSocketDisconnect, WebSocketSession, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case

MIB = 1024 * 1024


@rest_controller
@request_mapping("/messages")
class MessagesController:
    """Echo endpoints, one per receive method, and a kind reporter."""

    @websocket_mapping("/text")
    async def text(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_text(await session.receive_text())

    @websocket_mapping("/bytes")
    async def binary(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_bytes(await session.receive_bytes())

    @websocket_mapping("/json")
    async def json_text(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_json(await session.receive_json())

    @websocket_mapping("/json-binary")
    async def json_binary(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send_json(await session.receive_json(mode="binary"), mode="binary")

    @websocket_mapping("/either")
    async def either(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            message = await session.receive()
            await session.send_text(type(message).__name__)
            await session.send(message)

    @websocket_mapping("/compact")
    async def compact(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json({"word": "héllo", "list": [1, 2]})
        await session.close()


async def _echo(ctx: CaseContext, path: str, *messages: str | bytes) -> None:
    async with ctx.connect(path) as ws:
        for message in messages:
            await ws.send(message)
            got = await ws.receive()
            assert type(got) is type(message), f"sent {type(message).__name__}, got {type(got).__name__}"
            assert got == message, f"sent {message[:40]!r}..., got {got[:40]!r}..."


@case("messages.text")
async def text(ctx: CaseContext) -> None:
    """Text messages come back as text, unchanged."""
    await _echo(ctx, "/messages/text", "hello", "two words")


@case("messages.bytes")
async def binary(ctx: CaseContext) -> None:
    """Binary messages come back as bytes, unchanged, NUL and high bytes included."""
    await _echo(ctx, "/messages/bytes", b"\x00\x01\xfe\xff", b"plain")


@case("messages.empty_text", server_requires=("empty_messages",))
async def empty_text(ctx: CaseContext) -> None:
    """An empty text message is a message: it arrives as ``""``."""
    await _echo(ctx, "/messages/text", "", "after")


@case("messages.empty_bytes", server_requires=("empty_messages",))
async def empty_bytes(ctx: CaseContext) -> None:
    """An empty binary message arrives as ``b""``, not as text or ``None``."""
    await _echo(ctx, "/messages/bytes", b"", b"after")


@case("messages.non_ascii")
async def non_ascii(ctx: CaseContext) -> None:
    """Text outside ASCII (accents, CJK, emoji, RTL) survives the round trip."""
    await _echo(ctx, "/messages/text", "héllo wörld", "日本語", "😀👍🏽", "שָׁלוֹם")


@case("messages.large_text")
async def large_text(ctx: CaseContext) -> None:
    """A 1 MiB text message survives the round trip."""
    await _echo(ctx, "/messages/text", "ж" * (MIB // 2))


@case("messages.large_bytes")
async def large_bytes(ctx: CaseContext) -> None:
    """A 1 MiB binary message survives the round trip."""
    await _echo(ctx, "/messages/bytes", bytes(range(256)) * (MIB // 256))


@case("messages.json_text")
async def json_text(ctx: CaseContext) -> None:
    """``receive_json``/``send_json`` in text mode carry nested JSON in text frames."""
    async with ctx.connect("/messages/json") as ws:
        value = {"a": [1, 2.5, None, True], "b": {"c": "é"}}
        await ws.send_json(value)
        raw = await ws.receive()
        assert isinstance(raw, str)
        assert json.loads(raw) == value


@case("messages.json_binary")
async def json_binary(ctx: CaseContext) -> None:
    """In binary mode JSON travels as UTF-8 in binary frames, both ways."""
    async with ctx.connect("/messages/json-binary") as ws:
        value = {"list": [1, "ü"], "n": None}
        await ws.send_json(value, mode="binary")
        raw = await ws.receive()
        assert isinstance(raw, bytes)
        assert json.loads(raw.decode("utf-8")) == value


@case("messages.json_compact")
async def json_compact(ctx: CaseContext) -> None:
    """``send_json`` writes compact JSON and keeps non-ASCII characters as they are."""
    async with ctx.connect("/messages/compact") as ws:
        assert await ws.receive_text() == '{"word":"héllo","list":[1,2]}'


@case("messages.receive_either")
async def receive_either(ctx: CaseContext) -> None:
    """``receive()`` gives ``str`` for text and ``bytes`` for binary; ``send()`` keeps the kind."""
    async with ctx.connect("/messages/either") as ws:
        await ws.send_text("t")
        assert await ws.receive_text() == "str"
        assert await ws.receive() == "t"
        await ws.send_bytes(b"b")
        assert await ws.receive_text() == "bytes"
        assert await ws.receive() == b"b"


@case("messages.order")
async def order(ctx: CaseContext) -> None:
    """Two hundred messages sent back to back come back in order."""
    async with ctx.connect("/messages/text") as ws:
        for i in range(200):
            await ws.send_text(str(i))
        assert [await ws.receive_text() for _ in range(200)] == [str(i) for i in range(200)]


async def _closed_with(ctx: CaseContext, path: str, message: str | bytes, code: int) -> None:
    async with ctx.connect(path) as ws:
        await ws.send(message)
        try:
            got = await ws.receive()
        except WebSocketDisconnect as exc:
            assert exc.code == code, f"expected close {code}, got {exc.code}"
        else:
            raise AssertionError(f"expected close {code}, got message {got!r}")
    assert await ctx.logs("WARNING") == [], "a client's bad message is not a server warning"


@case("messages.bytes_for_text_1003", server_requires=("protocol_close_codes",))
async def bytes_for_text(ctx: CaseContext) -> None:
    """Binary where text is expected, uncaught, closes with 1003 and logs nothing above INFO."""
    await _closed_with(ctx, "/messages/text", b"oops", 1003)


@case("messages.text_for_bytes_1003", server_requires=("protocol_close_codes",))
async def text_for_bytes(ctx: CaseContext) -> None:
    """Text where bytes are expected, uncaught, closes with 1003."""
    await _closed_with(ctx, "/messages/bytes", "oops", 1003)


@case("messages.invalid_json_1007", server_requires=("protocol_close_codes",))
async def invalid_json(ctx: CaseContext) -> None:
    """A text message that is not JSON, uncaught, closes with 1007."""
    await _closed_with(ctx, "/messages/json", "{not json", 1007)


@case("messages.invalid_utf8_json_1007", server_requires=("protocol_close_codes",))
async def invalid_utf8_json(ctx: CaseContext) -> None:
    """Binary JSON that is not UTF-8, uncaught, closes with 1007."""
    await _closed_with(ctx, "/messages/json-binary", b"\xff\xfe{}", 1007)
