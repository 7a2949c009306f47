"""msgspec Structs as payloads and replies; the cases are skipped, naming msgspec, where it is not installed."""

from __future__ import annotations

import importlib.util

from ..context import CaseContext
from ..registry import case
from ._frames import expect, expect_error, expect_reply, send, still_open

MSGSPEC = importlib.util.find_spec("msgspec") is not None

if MSGSPEC:
    import msgspec

    from pyfly_ws import message_mapping, request_mapping, rest_controller, websocket_mapping

    from ._frames import Pings

    class Item(msgspec.Struct):
        name: str
        price: float
        tags: list[str] = []

    class Basket(msgspec.Struct, forbid_unknown_fields=True):
        owner: str
        items: list[Item]

    class Total(msgspec.Struct):
        owner: str
        total: float
        names: list[str]

    @rest_controller
    @request_mapping("/msg")
    @websocket_mapping("/msgspec")
    class MsgspecGateway(Pings):
        """Validates with a msgspec Struct, answers with one."""

        @message_mapping("basket")
        def basket(self, basket: Basket) -> Total:
            assert isinstance(basket, Basket)
            return Total(basket.owner, sum(item.price for item in basket.items), [item.name for item in basket.items])

        @message_mapping("inspect")
        def inspect(self, basket: Basket) -> dict[str, object]:
            first = basket.items[0]
            return {"class": type(basket).__name__, "item": type(first).__name__, "tags": first.tags}


@case("payloads.msgspec", libraries=("msgspec",))
async def msgspec_payload(ctx: CaseContext) -> None:
    """A payload annotated with a msgspec Struct arrives as that Struct, nested Structs and defaults included."""
    async with ctx.connect("/msg/msgspec") as ws:
        await send(ws, {"type": "inspect", "id": 1, "data": {"owner": "ann", "items": [{"name": "a", "price": 1}]}})
        assert await expect_reply(ws, 1) == {"class": "Basket", "item": "Item", "tags": []}


@case("replies.msgspec", libraries=("msgspec",))
async def msgspec_reply(ctx: CaseContext) -> None:
    """A handler annotated to return a msgspec Struct is answered with the Struct as JSON data."""
    async with ctx.connect("/msg/msgspec") as ws:
        data = {"owner": "bo", "items": [{"name": "a", "price": 1.5}, {"name": "b", "price": 2, "tags": ["x"]}]}
        await send(ws, {"type": "basket", "id": "b", "data": data})
        await expect(ws, {"type": "reply", "id": "b", "data": {"owner": "bo", "total": 3.5, "names": ["a", "b"]}})


@case("errors.invalid_payload_msgspec", libraries=("msgspec",))
async def invalid_msgspec(ctx: CaseContext) -> None:
    """Data a msgspec Struct refuses: ``invalid_payload`` with msgspec's error, located in the data."""
    async with ctx.connect("/msg/msgspec") as ws:
        cases = [
            ({"owner": "a", "items": [{"name": "x", "price": "1"}]}, ["items", 0, "price"], "type", "Expected `float`"),
            ({"items": []}, ["owner"], "missing", "missing required field `owner`"),
            ({"owner": "a", "items": [], "extra": 1}, ["extra"], "extra_forbidden", "unknown field `extra`"),
        ]
        for index, (data, location, kind, text) in enumerate(cases):
            bad = {"type": "basket", "id": index, "data": data}
            await send(ws, bad)
            frame = await expect_error(ws, index, "invalid_payload", after=bad)
            [error] = frame["errors"]
            assert set(error) == {"location", "message", "kind"}, error
            assert (error["location"], error["kind"]) == (location, kind), f"after {bad}: {error}"
            assert text in error["message"], f"after {bad}: expected {text!r} in the message, got {error}"
        await still_open(ws)
