"""Error frames: each kind of bad message is answered with its code, and the session stays open."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pyfly_ws import MessageError, message_mapping, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import TestSession

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, canonical, expect, expect_error, send, still_open

SECRET = "s3cr3t-in-the-exception"
"""What the failing handler's exception says: it must never reach the client."""


@dataclass
class Where:
    x: int
    y: int


@dataclass
class Chat:
    text: str
    where: Where
    n: int = 0


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/errors")
class ErrorsGateway(Pings):
    """Handlers that validate, fail, and refuse."""

    @message_mapping("chat")
    def chat(self, data: Chat) -> str:
        return data.text

    @message_mapping("boom")
    async def boom(self) -> None:
        raise RuntimeError(SECRET)

    @message_mapping("refuse")
    def refuse(self, data: Any) -> None:
        if data == "bare":
            raise MessageError("no_reason")
        raise MessageError("quota_exceeded", "three a minute", errors=[{"limit": 3, "window": "1m"}])


async def _answered(ws: TestSession, frame: Any, id: Any, code: str) -> None:
    """Send ``frame``: answered with an error frame ``code`` for ``id``, and the session still answers."""
    await send(ws, frame)
    await expect_error(ws, id, code, after=frame)
    await still_open(ws)


@case("errors.invalid_json")
async def invalid_json(ctx: CaseContext) -> None:
    """A frame that is not JSON (truncated, empty, NaN, not UTF-8) is answered ``invalid_frame`` with id null."""
    async with ctx.connect("/msg/errors") as ws:
        for frame in ('{"type": "ping", "id": "x"', "{not json", "", "NaN", '{"type": "ping", "data": Infinity}'):
            await _answered(ws, frame, None, "invalid_frame")
        await ws.send_bytes(b"\xff\xfe{}")
        await expect_error(ws, None, "invalid_frame", after=b"\xff\xfe{}")
        await still_open(ws)


@case("errors.not_an_object")
async def not_an_object(ctx: CaseContext) -> None:
    """JSON that is not an object (array, string, number, boolean, null) is answered ``invalid_envelope``, id null."""
    async with ctx.connect("/msg/errors") as ws:
        for frame in ('[{"type": "ping", "id": "x"}]', '"ping"', "3", "-1.5", "true", "null", "[]"):
            await _answered(ws, frame, None, "invalid_envelope")


@case("errors.missing_type")
async def missing_type(ctx: CaseContext) -> None:
    """An object without a type is answered ``invalid_envelope``, with its id when it has a valid one."""
    async with ctx.connect("/msg/errors") as ws:
        await _answered(ws, {"id": "x", "data": 1}, "x", "invalid_envelope")
        await _answered(ws, {"id": 5}, 5, "invalid_envelope")
        await _answered(ws, {}, None, "invalid_envelope")
        await _answered(ws, {"type": None, "id": "n"}, "n", "invalid_envelope")


@case("errors.non_string_type")
async def non_string_type(ctx: CaseContext) -> None:
    """A type that is not a string (number, boolean, array, object) is answered ``invalid_envelope`` with the id."""
    async with ctx.connect("/msg/errors") as ws:
        for index, kind in enumerate((5, True, ["ping"], {"name": "ping"}, 1.5)):
            await _answered(ws, {"type": kind, "id": f"t{index}"}, f"t{index}", "invalid_envelope")


@case("errors.bad_id")
async def bad_id(ctx: CaseContext) -> None:
    """An id that is no string or integer (array, float, boolean, object): ``invalid_envelope`` with id null."""
    async with ctx.connect("/msg/errors") as ws:
        for mid in (["a"], 1.5, 2.0, True, False, {"a": 1}):
            await _answered(ws, {"type": "ping", "id": mid}, None, "invalid_envelope")


@case("errors.unknown_type")
async def unknown_type(ctx: CaseContext) -> None:
    """A type no handler takes is answered ``unknown_type``, with the id or, without one, id null."""
    async with ctx.connect("/msg/errors") as ws:
        await _answered(ws, {"type": "no.such.type", "id": "u"}, "u", "unknown_type")
        await _answered(ws, {"type": "no.such.type", "data": {"x": 1}}, None, "unknown_type")
        await _answered(ws, {"type": "PING", "id": 3}, 3, "unknown_type")  # types are matched exactly
        await _answered(ws, {"type": "", "id": 4}, 4, "unknown_type")


@case("errors.invalid_payload_dataclass")
async def invalid_payload_dataclass(ctx: CaseContext) -> None:
    """Data a dataclass refuses: ``invalid_payload`` listing every field's location, message and kind."""
    async with ctx.connect("/msg/errors") as ws:
        bad: dict[str, Any] = {"type": "chat", "id": "c", "data": {"where": {"x": "1"}, "n": True}}
        await send(ws, bad)
        await expect_error(
            ws,
            "c",
            "invalid_payload",
            errors=[
                {"location": ["text"], "message": "Field required", "kind": "missing"},
                {"location": ["where", "x"], "message": "Input should be a valid integer", "kind": "int_type"},
                {"location": ["where", "y"], "message": "Field required", "kind": "missing"},
                {"location": ["n"], "message": "Input should be a valid integer", "kind": "int_type"},
            ],
            after=bad,
        )
        await still_open(ws)
        for data in (None, [1], "text"):
            bad = {"type": "chat", "id": "d", "data": data}
            await send(ws, bad)
            frame = await expect_error(ws, "d", "invalid_payload", after=bad)
            assert [(e["location"], e["kind"]) for e in frame["errors"]] == [([], "dict_type")], frame
        await send(ws, {"type": "chat", "id": "ok", "data": {"text": "fine", "where": {"x": 1, "y": 2}}})
        await expect(ws, {"type": "reply", "id": "ok", "data": "fine"})


@case("errors.message_error")
async def message_error(ctx: CaseContext) -> None:
    """A handler's ``MessageError(code, message, errors)`` is the error frame, with the message's id."""
    async with ctx.connect("/msg/errors") as ws:
        await send(ws, {"type": "refuse", "id": "r1", "data": "full"})
        await expect_error(ws, "r1", "quota_exceeded", message="three a minute", errors=[{"limit": 3, "window": "1m"}])
        await send(ws, {"type": "refuse", "id": 2, "data": "bare"})
        await expect_error(ws, 2, "no_reason", message="")
        await send(ws, {"type": "refuse", "data": "bare"})  # no id: the error is still sent, with id null
        await expect_error(ws, None, "no_reason", message="")
        await still_open(ws)
    assert await ctx.logs("WARNING") == [], "a MessageError is an answer, not a server warning"


@case("errors.internal_error")
async def internal_error(ctx: CaseContext) -> None:
    """A handler that raises: ``internal_error``, without the exception's text; a WARNING names the handler."""
    async with ctx.connect("/msg/errors") as ws:
        await send(ws, {"type": "boom", "id": "b"})
        raw = await ws.receive_text()
        assert SECRET not in raw and "RuntimeError" not in raw and "Traceback" not in raw, f"leaked: {raw}"
        expected = {"type": "error", "id": "b", "code": "internal_error", "message": "internal error"}
        assert canonical(json.loads(raw)) == canonical(expected), f"expected {expected}, got {raw}"
        await send(ws, {"type": "boom", "id": "b2"})
        await expect_error(ws, "b2", "internal_error", message="internal error")
        await still_open(ws)
    warnings = await ctx.logs("WARNING")
    assert len(warnings) == 2, f"expected one WARNING per failure, got {warnings}"
    for record in warnings:
        assert record["traceback"], f"the WARNING carries the traceback: {record}"
        assert "ErrorsGateway.boom" in record["message"], f"the WARNING names the handler: {record}"


@case("errors.stray_reply_ignored")
async def stray_reply_ignored(ctx: CaseContext) -> None:
    """A client ``reply`` or ``error`` frame that answers no server request is ignored: no frame, session open."""
    async with ctx.connect("/msg/errors") as ws:
        await send(ws, {"type": "reply", "id": "s99", "data": 1})
        await send(ws, {"type": "error", "id": "s98", "code": "x", "message": "y"})
        await send(ws, {"type": "reply"})
        await still_open(ws)
