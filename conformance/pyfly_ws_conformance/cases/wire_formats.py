"""Wire formats: an envelope with other field names, JSON in binary frames, and MessagePack binary frames.

The MessagePack cases need msgspec (the codec's library) and are skipped, naming it, where it is absent.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from pyfly_ws import Envelope, WebSocketSession, message_mapping, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import TestSession

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, receive, send, still_open

MSGSPEC = importlib.util.find_spec("msgspec") is not None
RENAMED = Envelope(type="kind", id="ref", data="body", code="status", message="detail", errors="problems")


class Echoes(Pings):
    @message_mapping("echo")
    def echo(self, data: Any) -> Any:
        return data

    @message_mapping("count")
    async def count(self, session: WebSocketSession, n: int) -> int:
        await session.emit("counted", n)
        return n + 1


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/renamed", envelope=RENAMED)
class RenamedGateway(Echoes):
    """Every frame, in and out, uses the renamed fields."""


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/json")
class JSONGateway(Echoes):
    """The default wire format."""


if MSGSPEC:
    from pyfly_ws import MessagePackCodec

    @rest_controller
    @request_mapping("/msg")
    @websocket_mapping("/msgpack", codec=MessagePackCodec())
    class MessagePackGateway(Echoes):
        """MessagePack in binary frames."""


@case("codecs.custom_envelope")
async def custom_envelope(ctx: CaseContext) -> None:
    """An endpoint's ``Envelope`` renames every field: messages, replies, pushes, errors and their lists."""
    async with ctx.connect("/msg/renamed") as ws:
        await send(ws, {"kind": "echo", "ref": "r", "body": {"type": "x", "id": 1}})
        await expect(ws, {"kind": "reply", "ref": "r", "body": {"type": "x", "id": 1}})
        await send(ws, {"kind": "count", "ref": 2, "body": 41})
        await expect(ws, {"kind": "counted", "body": 41})
        await expect(ws, {"kind": "reply", "ref": 2, "body": 42})
        await send(ws, {"kind": "nope", "ref": "u"})
        frame = await receive(ws)
        assert set(frame) == {"kind", "ref", "status", "detail"}, frame
        assert (frame["kind"], frame["ref"], frame["status"]) == ("error", "u", "unknown_type"), frame
        await send(ws, {"kind": "count", "ref": "p", "body": "x"})
        frame = await receive(ws)
        assert set(frame) == {"kind", "ref", "status", "detail", "problems"}, frame
        assert (frame["ref"], frame["status"]) == ("p", "invalid_payload"), frame
        assert [(e["location"], e["kind"]) for e in frame["problems"]] == [([], "int_type")], frame
        await send(ws, {"type": "echo", "id": "default-names", "data": 1})  # the default fields mean nothing here
        frame = await receive(ws)
        assert (frame["kind"], frame["ref"], frame["status"]) == ("error", None, "invalid_envelope"), frame
        await send(ws, {"kind": "ping", "ref": "ping"})
        await expect(ws, {"kind": "reply", "ref": "ping", "body": "pong"})


@case("codecs.json_binary_frame")
async def json_binary_frame(ctx: CaseContext) -> None:
    """The JSON codec also reads UTF-8 JSON from a binary frame; its answers are text frames as always."""
    async with ctx.connect("/msg/json") as ws:
        await ws.send_bytes(json.dumps({"type": "echo", "id": "b", "data": "ü"}).encode())
        await expect(ws, {"type": "reply", "id": "b", "data": "ü"})
        await still_open(ws)


async def _msgpack(ws: TestSession) -> Any:
    import msgspec

    return msgspec.msgpack.decode(await ws.receive_bytes())


@case("codecs.msgpack_round_trip", libraries=("msgspec",))
async def msgpack_round_trip(ctx: CaseContext) -> None:
    """``MessagePackCodec``: binary frames both ways; replies, pushes and bytes data as MessagePack."""
    import msgspec

    encode = msgspec.msgpack.encode
    async with ctx.connect("/msg/msgpack") as ws:
        data = {"bin": b"\x00\xff", "list": [1, -2, 2.5, None, True], "text": "é"}
        await ws.send_bytes(encode({"type": "echo", "id": "m", "data": data}))
        reply = await _msgpack(ws)
        assert reply == {"type": "reply", "id": "m", "data": data}, reply
        assert type(reply["data"]["bin"]) is bytes, f"bin stays bytes: {reply}"
        await ws.send_bytes(encode({"type": "count", "id": 7, "data": 1}))
        assert await _msgpack(ws) == {"type": "counted", "data": 1}
        assert await _msgpack(ws) == {"type": "reply", "id": 7, "data": 2}
        await ws.send_bytes(encode({"type": "nope", "id": 8}))
        error = await _msgpack(ws)
        assert set(error) == {"type", "id", "code", "message"}, error
        assert (error["type"], error["id"], error["code"]) == ("error", 8, "unknown_type"), error


@case("codecs.msgpack_invalid", libraries=("msgspec",))
async def msgpack_invalid(ctx: CaseContext) -> None:
    """Bytes that are not MessagePack (or an unsupported extension): ``invalid_frame``, id null, in MessagePack."""
    import msgspec

    async with ctx.connect("/msg/msgpack") as ws:
        for frame in (b"\xc1", b"\x81\xa4type", b"\xd4\x05\x00"):
            await ws.send_bytes(frame)
            error = await _msgpack(ws)
            assert (error["type"], error["id"], error["code"]) == ("error", None, "invalid_frame"), (frame, error)
        await ws.send_bytes(msgspec.msgpack.encode(["not", "a", "map"]))
        error = await _msgpack(ws)
        assert (error["type"], error["id"], error["code"]) == ("error", None, "invalid_envelope"), error
        await ws.send_bytes(msgspec.msgpack.encode({"type": "ping", "id": "ping"}))
        assert await _msgpack(ws) == {"type": "reply", "id": "ping", "data": "pong"}


@case("codecs.msgpack_text_frame", libraries=("msgspec",))
async def msgpack_text_frame(ctx: CaseContext) -> None:
    """A text frame to a MessagePack endpoint, even one holding a JSON message, is answered ``invalid_frame``."""
    async with ctx.connect("/msg/msgpack") as ws:
        await send(ws, {"type": "ping", "id": "ping"})
        error = await _msgpack(ws)
        assert set(error) == {"type", "id", "code", "message"}, error
        assert (error["type"], error["id"], error["code"]) == ("error", None, "invalid_frame"), error
        assert isinstance(error["message"], str) and error["message"], error
