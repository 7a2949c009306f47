"""Iteration: ``iter_text``, ``iter_bytes`` and ``iter_json`` end cleanly when the client leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

from pyfly_ws import WebSocketDisconnect, WebSocketSession, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._support import record

T = TypeVar("T")


@rest_controller
@request_mapping("/iteration")
class IterationController:
    """Each endpoint iterates, acknowledges every message, and records how the loop ended."""

    @websocket_mapping("/text")
    async def text(self, session: WebSocketSession) -> None:
        await session.accept()
        seen = [item async for item in _acked(session, session.iter_text())]
        record(session, {"ended": "cleanly", "seen": seen})

    @websocket_mapping("/bytes")
    async def binary(self, session: WebSocketSession) -> None:
        await session.accept()
        seen = [item.hex() async for item in _acked(session, session.iter_bytes())]
        record(session, {"ended": "cleanly", "seen": seen})

    @websocket_mapping("/json")
    async def json_text(self, session: WebSocketSession) -> None:
        await session.accept()
        seen = [item async for item in _acked(session, session.iter_json())]
        record(session, {"ended": "cleanly", "seen": seen})

    @websocket_mapping("/json-binary")
    async def json_binary(self, session: WebSocketSession) -> None:
        await session.accept()
        seen = [item async for item in _acked(session, session.iter_json(mode="binary"))]
        record(session, {"ended": "cleanly", "seen": seen})


async def _acked(session: WebSocketSession, items: AsyncIterator[T]) -> AsyncIterator[T]:
    async for item in items:
        try:
            await session.send_text("ack")
        except WebSocketDisconnect:
            return
        yield item


async def _iterate(ctx: CaseContext, path: str, messages: list[str | bytes], seen: list[object]) -> None:
    async with ctx.connect(path) as ws:
        for message in messages:
            await ws.send(message)
            assert await ws.receive_text() == "ack"
        await ws.close(1000)
    assert await ctx.wait_events(1) == [{"ended": "cleanly", "seen": seen}]


@case("iteration.text")
async def text(ctx: CaseContext) -> None:
    """``iter_text`` yields each text message and stops without error when the client closes."""
    await _iterate(ctx, "/iteration/text", ["a", "", "ç"], ["a", "", "ç"])


@case("iteration.bytes")
async def binary(ctx: CaseContext) -> None:
    """``iter_bytes`` yields each binary message and stops cleanly."""
    await _iterate(ctx, "/iteration/bytes", [b"\x00", b"ab"], ["00", "6162"])


@case("iteration.json")
async def json_text(ctx: CaseContext) -> None:
    """``iter_json`` decodes each text message and stops cleanly."""
    await _iterate(ctx, "/iteration/json", ['{"a": 1}', "[true]"], [{"a": 1}, [True]])


@case("iteration.json_binary")
async def json_binary(ctx: CaseContext) -> None:
    """``iter_json(mode="binary")`` decodes UTF-8 JSON from binary frames."""
    await _iterate(ctx, "/iteration/json-binary", [b'{"x": "\xc3\xa9"}'], [{"x": "é"}])


@case("iteration.abrupt_drop")
async def abrupt_drop(ctx: CaseContext) -> None:
    """The iteration also stops cleanly when the connection drops without a close frame."""
    async with ctx.connect("/iteration/text") as ws:
        await ws.send_text("one")
        assert await ws.receive_text() == "ack"
        await ws.abort()
    assert await ctx.wait_events(1) == [{"ended": "cleanly", "seen": ["one"]}]


@case("iteration.wrong_kind_1003", server_requires=("protocol_close_codes",))
async def wrong_kind(ctx: CaseContext) -> None:
    """A binary message during ``iter_text`` ends the session with 1003."""
    async with ctx.connect("/iteration/text") as ws:
        await ws.send_bytes(b"no")
        code, _ = await ws.wait_closed()
        assert code == 1003
    assert await ctx.events() == []
