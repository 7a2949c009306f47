"""pydantic models as payloads and replies; the cases are skipped, naming pydantic, where it is not installed."""

from __future__ import annotations

import importlib.util

from ..context import CaseContext
from ..registry import case
from ._frames import expect, expect_error, expect_reply, send, still_open

PYDANTIC = importlib.util.find_spec("pydantic") is not None

if PYDANTIC:
    from pydantic import BaseModel, Field

    from pyfly_ws import message_mapping, request_mapping, rest_controller, websocket_mapping

    from ._frames import Pings

    class Line(BaseModel):
        sku: str
        qty: int = Field(gt=0)

    class Order(BaseModel):
        customer: str
        lines: list[Line]
        note: str | None = None

    class Receipt(BaseModel):
        customer: str
        items: int
        skus: list[str]

    @rest_controller
    @request_mapping("/msg")
    @websocket_mapping("/pydantic")
    class PydanticGateway(Pings):
        """Validates with a pydantic model, answers with one."""

        @message_mapping("order")
        def order(self, order: Order) -> Receipt:
            assert isinstance(order, Order)
            return Receipt(
                customer=order.customer,
                items=sum(line.qty for line in order.lines),
                skus=[line.sku for line in order.lines],
            )

        @message_mapping("inspect")
        def inspect(self, order: Order) -> dict[str, object]:
            return {"class": type(order).__name__, "line": type(order.lines[0]).__name__, "note": order.note}


@case("payloads.pydantic", libraries=("pydantic",))
async def pydantic_payload(ctx: CaseContext) -> None:
    """A payload annotated with a pydantic model arrives as that model, nested models and defaults included."""
    async with ctx.connect("/msg/pydantic") as ws:
        await send(ws, {"type": "inspect", "id": 1, "data": {"customer": "ann", "lines": [{"sku": "a", "qty": 1}]}})
        assert await expect_reply(ws, 1) == {"class": "Order", "line": "Line", "note": None}


@case("replies.pydantic", libraries=("pydantic",))
async def pydantic_reply(ctx: CaseContext) -> None:
    """A handler annotated to return a pydantic model is answered with the model dumped as JSON data."""
    async with ctx.connect("/msg/pydantic") as ws:
        data = {"customer": "bo", "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}], "note": "x"}
        await send(ws, {"type": "order", "id": "o", "data": data})
        await expect(ws, {"type": "reply", "id": "o", "data": {"customer": "bo", "items": 5, "skus": ["a", "b"]}})


@case("errors.invalid_payload_pydantic", libraries=("pydantic",))
async def invalid_pydantic(ctx: CaseContext) -> None:
    """Data a pydantic model refuses: ``invalid_payload`` listing pydantic's errors (location, message, kind)."""
    async with ctx.connect("/msg/pydantic") as ws:
        bad = {"type": "order", "id": "o", "data": {"lines": [{"sku": "a", "qty": 0}, {"qty": "many"}]}}
        await send(ws, bad)
        frame = await expect_error(ws, "o", "invalid_payload", after=bad)
        errors = frame.get("errors")
        assert isinstance(errors, list), f"an invalid_payload error lists its errors: {frame}"
        found = sorted((tuple(e["location"]), e["kind"]) for e in errors)
        assert found == [
            (("customer",), "missing"),
            (("lines", 0, "qty"), "greater_than"),
            (("lines", 1, "qty"), "int_parsing"),
            (("lines", 1, "sku"), "missing"),
        ], f"unexpected errors {errors}"
        for error in errors:
            assert set(error) == {"location", "message", "kind"}, error
            assert isinstance(error["message"], str) and error["message"], error
        messages = {e["kind"]: e["message"] for e in errors}
        assert messages["missing"] == "Field required", errors
        assert messages["greater_than"] == "Input should be greater than 0", errors
        await send(ws, {"type": "order", "id": "p", "data": "not an object"})
        frame = await expect_error(ws, "p", "invalid_payload")
        assert [(e["location"], e["kind"]) for e in frame["errors"]] == [([], "model_type")], frame
        await still_open(ws)
