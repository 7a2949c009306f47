"""Protocol errors: a client that keeps sending bad messages is closed, 1008 (1007 if the last was undecodable).

The four codes a client's mistake earns (``invalid_frame``, ``invalid_envelope``,
``unknown_type``, ``invalid_payload``) count; ``max_protocol_errors`` of them in
a row close the session. Any message that is not one of them ends the row.
"""

from __future__ import annotations

from typing import Any

from pyfly_ws import MessageError, message_mapping, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import TestSession

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect_error, expect_protocol_close, send, still_open

LIMIT = 10
"""The default ``max_protocol_errors``."""
UNKNOWN = {"type": "no.such.type"}
NOT_JSON = "{not json"
BAD = [NOT_JSON, "[1]", UNKNOWN, {"type": "ping", "id": 1.5}, {"type": "count", "data": "x"}]
"""One of each protocol error: invalid_frame, invalid_envelope (twice), unknown_type, invalid_payload."""
CODES = ["invalid_frame", "invalid_envelope", "unknown_type", "invalid_envelope", "invalid_payload"]


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/strict", max_protocol_errors=3)
class StrictGateway(Pings):
    """Closes after three protocol errors in a row."""

    @message_mapping("count")
    def count(self, n: int) -> int:
        return n


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/protocol")
class ProtocolGateway(Pings):
    """The default limit; handlers that answer with errors that are not the client's protocol mistakes."""

    @message_mapping("count")
    def count(self, n: int) -> int:
        return n

    @message_mapping("fail")
    def fail(self) -> None:
        raise RuntimeError("handler bug")

    @message_mapping("refuse")
    def refuse(self) -> None:
        raise MessageError("refused", "not now")


async def _errors(ws: TestSession, count: int) -> None:
    """Send ``count`` protocol errors (of every kind, in turn) and read their error frames."""
    for index in range(count):
        await send(ws, BAD[index % len(BAD)])
    for index in range(count):
        await expect_error(ws, None, CODES[index % len(BAD)], after=BAD[index % len(BAD)])


@case("protocol.close_1008", server_requires=("protocol_close_codes",))
async def close_1008(ctx: CaseContext) -> None:
    """Ten protocol errors in a row: each answered, then close 1008; logged at INFO, no warning."""
    async with ctx.connect("/msg/protocol") as ws:
        await expect_protocol_close(ws, 1008, LIMIT, UNKNOWN)
    assert await ctx.logs("WARNING") == [], "a misbehaving client is not a server warning"
    assert any("protocol errors" in record["message"] for record in await ctx.logs("INFO")), await ctx.logs()


@case("protocol.close_1007", server_requires=("protocol_close_codes",))
async def close_1007(ctx: CaseContext) -> None:
    """Ten undecodable frames in a row: each answered ``invalid_frame``, then close 1007."""
    async with ctx.connect("/msg/protocol") as ws:
        await expect_protocol_close(ws, 1007, LIMIT, NOT_JSON)


@case("protocol.last_error_decides", server_requires=("protocol_close_codes",))
async def last_error_decides(ctx: CaseContext) -> None:
    """The close code follows the error that reached the limit: 1007 if it was undecodable, 1008 otherwise."""
    async with ctx.connect("/msg/protocol") as ws:
        await _errors(ws, LIMIT - 1)
        await expect_protocol_close(ws, 1007, 1, NOT_JSON)
    async with ctx.connect("/msg/protocol") as ws:
        for _ in range(LIMIT - 1):
            await send(ws, NOT_JSON)
            await expect_error(ws, None, "invalid_frame")
        await expect_protocol_close(ws, 1008, 1, {"type": "count", "data": None})


@case("protocol.under_limit_stays_open")
async def under_limit_stays_open(ctx: CaseContext) -> None:
    """Nine protocol errors of every kind leave the session open: the next message is answered."""
    async with ctx.connect("/msg/protocol") as ws:
        await _errors(ws, LIMIT - 1)
        await still_open(ws)


@case("protocol.valid_message_resets", server_requires=("protocol_close_codes",))
async def valid_message_resets(ctx: CaseContext) -> None:
    """A valid message between protocol errors starts the count again: 9, valid, 9, valid stay open; 10 close."""
    async with ctx.connect("/msg/protocol") as ws:
        await _errors(ws, LIMIT - 1)
        await still_open(ws)
        await _errors(ws, LIMIT - 1)
        await send(ws, {"type": "count", "data": 1})  # valid without id: handled, not answered, still a reset
        await _errors(ws, LIMIT - 1)
        await still_open(ws)
        await expect_protocol_close(ws, 1008, LIMIT, UNKNOWN)


@case("protocol.custom_limit", server_requires=("protocol_close_codes",))
async def custom_limit(ctx: CaseContext) -> None:
    """``max_protocol_errors=3``: two errors and a valid message stay open; three in a row close 1008."""
    async with ctx.connect("/msg/strict") as ws:
        await _errors(ws, 2)
        await still_open(ws)
        await expect_protocol_close(ws, 1008, 3, UNKNOWN)


@case("protocol.handled_errors_dont_count")
async def handled_errors_dont_count(ctx: CaseContext) -> None:
    """Errors that are answers, not client mistakes (``MessageError``, ``internal_error``), never close the session."""
    async with ctx.connect("/msg/protocol") as ws:
        for index in range(LIMIT + 2):
            await send(ws, {"type": "refuse", "id": index})
            await expect_error(ws, index, "refused", message="not now")
        for index in range(LIMIT + 2):
            await send(ws, {"type": "fail", "id": index})
            await expect_error(ws, index, "internal_error")
        await still_open(ws)


async def _row_broken_by(ctx: CaseContext, frame: dict[str, Any], code: str) -> None:
    async with ctx.connect("/msg/protocol") as ws:
        await _errors(ws, LIMIT - 1)
        await send(ws, frame)
        await expect_error(ws, frame.get("id"), code, after=frame)
        await _errors(ws, LIMIT - 1)
        await still_open(ws)


@case("protocol.message_error_resets")
async def message_error_resets(ctx: CaseContext) -> None:
    """A message answered with the handler's ``MessageError`` ends a row of protocol errors: 9, it, 9 stay open."""
    await _row_broken_by(ctx, {"type": "refuse", "id": "r"}, "refused")


@case("protocol.internal_error_resets")
async def internal_error_resets(ctx: CaseContext) -> None:
    """A valid message whose handler raises (``internal_error``) ends a row of protocol errors: 9, it, 9 stay open."""
    await _row_broken_by(ctx, {"type": "fail", "id": "f"}, "internal_error")
