"""Payload kinds: the handler's payload parameter, by its annotation, validates the envelope's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pyfly_ws import message_mapping, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._frames import Pings, expect, expect_error, expect_reply, send, still_open


@dataclass
class Author:
    name: str
    email: str | None = None


@dataclass
class Post:
    title: str
    author: Author
    tags: list[str] = field(default_factory=list)
    kind: Literal["note", "article"] = "note"


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/payloads")
class PayloadsGateway(Pings):
    """One handler per kind of payload annotation, each reporting what it received."""

    @message_mapping("post")
    def post(self, post: Post) -> dict[str, Any]:
        return {
            "class": type(post).__name__,
            "author": type(post.author).__name__,
            "fields": [post.title, post.author.name, post.author.email, post.tags, post.kind],
        }

    @message_mapping("int")
    def integer(self, n: int) -> list[Any]:
        return [type(n).__name__, n]

    @message_mapping("str")
    def text(self, s: str) -> list[Any]:
        return [type(s).__name__, s]

    @message_mapping("dict")
    def mapping(self, d: dict[str, int]) -> list[Any]:
        return [type(d).__name__, d]

    @message_mapping("none")
    def nothing(self, data: None) -> str:
        return "got none"

    @message_mapping("bare")
    def bare(self) -> str:
        return "no payload parameter"


@case("payloads.dataclass")
async def dataclass_payload(ctx: CaseContext) -> None:
    """A dataclass payload arrives as that dataclass, nested ones too; defaults fill in; unknown keys are ignored."""
    async with ctx.connect("/msg/payloads") as ws:
        data = {"title": "t", "author": {"name": "ann"}, "unknown": 1}
        await send(ws, {"type": "post", "id": 1, "data": data})
        assert await expect_reply(ws, 1) == {
            "class": "Post",
            "author": "Author",
            "fields": ["t", "ann", None, [], "note"],
        }
        data = {"title": "u", "author": {"name": "bo", "email": "b@x"}, "tags": ["a"], "kind": "article"}
        await send(ws, {"type": "post", "id": 2, "data": data})
        assert await expect_reply(ws, 2) == {
            "class": "Post",
            "author": "Author",
            "fields": ["u", "bo", "b@x", ["a"], "article"],
        }
        bad = {"type": "post", "id": 3, "data": {"title": "v", "author": {"name": "cy"}, "kind": "poem"}}
        await send(ws, bad)
        frame = await expect_error(ws, 3, "invalid_payload", after=bad)
        assert [(e["location"], e["kind"]) for e in frame["errors"]] == [(["kind"], "literal_error")], frame


@case("payloads.plain_types")
async def plain_types(ctx: CaseContext) -> None:
    """Plain annotations validate: an ``int`` is no bool, string or float; a ``dict[str, int]`` checks its values."""
    async with ctx.connect("/msg/payloads") as ws:
        for kind, data in (("int", 7), ("int", -(2**40)), ("str", "é"), ("str", ""), ("dict", {"a": 1})):
            await send(ws, {"type": kind, "id": "ok", "data": data})
            expected = {"int": "int", "str": "str", "dict": "dict"}[kind]
            await expect(ws, {"type": "reply", "id": "ok", "data": [expected, data]}, after=data)
        refused = [
            ("int", True, [], "int_type"),
            ("int", "7", [], "int_type"),
            ("int", 7.5, [], "int_type"),
            ("int", None, [], "int_type"),
            ("str", 7, [], "string_type"),
            ("dict", [1], [], "dict_type"),
            ("dict", {"a": "1", "b": 2}, ["a"], "int_type"),
        ]
        for kind, wrong, location, code in refused:
            bad = {"type": kind, "id": "bad", "data": wrong}
            await send(ws, bad)
            frame = await expect_error(ws, "bad", "invalid_payload", after=bad)
            assert [(e["location"], e["kind"]) for e in frame["errors"]] == [(location, code)], frame
        await still_open(ws)


@case("payloads.none_with_data")
async def none_with_data(ctx: CaseContext) -> None:
    """A payload annotated ``None`` takes no data (else ``invalid_payload``); a handler without one ignores it."""
    async with ctx.connect("/msg/payloads") as ws:
        await send(ws, {"type": "none", "id": 1})
        await expect(ws, {"type": "reply", "id": 1, "data": "got none"})
        await send(ws, {"type": "none", "id": 2, "data": None})
        await expect(ws, {"type": "reply", "id": 2, "data": "got none"})
        await send(ws, {"type": "none", "id": 3, "data": {"x": 1}})
        frame = await expect_error(ws, 3, "invalid_payload")
        assert [(e["location"], e["kind"]) for e in frame["errors"]] == [([], "none_required")], frame
        await send(ws, {"type": "bare", "id": 4, "data": {"x": 1}})
        await expect(ws, {"type": "reply", "id": 4, "data": "no payload parameter"})
