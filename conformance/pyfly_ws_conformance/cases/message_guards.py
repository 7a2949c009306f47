"""Message guards: each message of a type is checked after validation; a refusal answers it, the session stays."""

from __future__ import annotations

from dataclasses import dataclass

import anyio.lowlevel

from pyfly_ws import (
    Message,
    MessageError,
    WebSocketSession,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, expect_error, send, still_open
from ._support import record


@dataclass
class Transfer:
    to: str
    amount: int


def members_only(session: WebSocketSession, message: Message | None) -> bool:
    return session.query_params.get("member") == "yes"


def within_quota(session: WebSocketSession, message: Message | None) -> None:
    if message is not None and isinstance(message.data, Transfer) and message.data.amount > 100:
        raise MessageError("over_quota", "at most 100", errors=[{"max": 100}])


async def checks_slowly(session: WebSocketSession, message: Message | None) -> bool:
    await anyio.lowlevel.checkpoint()
    return message is not None and message.data != "forbidden word"


def sees_payload(session: WebSocketSession, message: Message | None) -> bool:
    assert message is not None
    data = message.data
    record(
        session,
        {"type": message.type, "id": message.id, "class": type(data).__name__, "to": data.to, "amount": data.amount},
    )
    return True


def broken_guard(session: WebSocketSession, message: Message | None) -> bool:
    raise RuntimeError("guard bug")


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/guarded")
class GuardedGateway(Pings):
    """One type per kind of message guard."""

    @message_mapping("members.only", guards=[members_only])
    def members(self) -> str:
        return "welcome"

    @message_mapping("transfer", guards=[sees_payload, within_quota])
    def transfer(self, session: WebSocketSession, data: Transfer) -> str:
        record(session, {"handled": data.amount})
        return f"sent {data.amount} to {data.to}"

    @message_mapping("say", guards=[checks_slowly])
    async def say(self, text: str) -> str:
        return text

    @message_mapping("broken", guards=[broken_guard])
    def broken(self) -> str:
        return "never"


@case("guards.message_refused")
async def message_refused(ctx: CaseContext) -> None:
    """A guard returning ``False`` answers ``forbidden`` with the id; the handler does not run; the session stays."""
    async with ctx.connect("/msg/guarded") as ws:
        await send(ws, {"type": "members.only", "id": "m"})
        await expect_error(ws, "m", "forbidden")
        await still_open(ws)
    async with ctx.connect("/msg/guarded", query={"member": "yes"}) as ws:
        await send(ws, {"type": "members.only", "id": "m"})
        await expect(ws, {"type": "reply", "id": "m", "data": "welcome"})


@case("guards.message_guard_error")
async def message_guard_error(ctx: CaseContext) -> None:
    """A guard raising ``MessageError`` answers with its code, message and errors; the handler does not run."""
    async with ctx.connect("/msg/guarded") as ws:
        await send(ws, {"type": "transfer", "id": 1, "data": {"to": "bo", "amount": 500}})
        await expect_error(ws, 1, "over_quota", message="at most 100", errors=[{"max": 100}])
        await send(ws, {"type": "transfer", "id": 2, "data": {"to": "bo", "amount": 5}})
        await expect(ws, {"type": "reply", "id": 2, "data": "sent 5 to bo"})
    handled = [event for event in await ctx.events() if "handled" in event]
    assert handled == [{"handled": 5}], f"only the admitted transfer is handled: {handled}"


@case("guards.message_guard_async")
async def message_guard_async(ctx: CaseContext) -> None:
    """An async guard is awaited: its ``False`` refuses, its ``True`` admits."""
    async with ctx.connect("/msg/guarded") as ws:
        await send(ws, {"type": "say", "id": "a", "data": "forbidden word"})
        await expect_error(ws, "a", "forbidden")
        await send(ws, {"type": "say", "id": "b", "data": "fine word"})
        await expect(ws, {"type": "reply", "id": "b", "data": "fine word"})


@case("guards.message_guard_sees_payload")
async def message_guard_sees_payload(ctx: CaseContext) -> None:
    """Guards run after validation: they see the payload as the handler will (a dataclass), never invalid data."""
    async with ctx.connect("/msg/guarded") as ws:
        await send(ws, {"type": "transfer", "id": "bad", "data": {"to": "bo"}})
        await expect_error(ws, "bad", "invalid_payload")
        await send(ws, {"type": "transfer", "id": "t", "data": {"to": "cy", "amount": 7}})
        await expect(ws, {"type": "reply", "id": "t", "data": "sent 7 to cy"})
    assert await ctx.events() == [
        {"type": "transfer", "id": "t", "class": "Transfer", "to": "cy", "amount": 7},
        {"handled": 7},
    ]


@case("guards.message_guard_raises")
async def message_guard_raises(ctx: CaseContext) -> None:
    """A guard that raises another exception answers ``internal_error`` (logged as a WARNING); the session stays."""
    async with ctx.connect("/msg/guarded") as ws:
        await send(ws, {"type": "broken", "id": "x"})
        await expect_error(ws, "x", "internal_error", message="internal error")
        await still_open(ws)
    warnings = await ctx.logs("WARNING")
    assert len(warnings) == 1 and warnings[0]["traceback"], f"one WARNING with the traceback: {warnings}"
