"""A server request: before placing an order, the server asks the client to confirm it.

    pyfly-ws run examples.confirm              # ws://127.0.0.1:8000/ws/orders

One order, frame by frame (``→`` from the client, ``←`` from the server)::

    → {"type": "order.place", "id": "c1", "data": {"item": "tea", "quantity": 2}}
    ← {"type": "order.confirm", "id": "s1", "data": {"item": "tea", "quantity": 2, "total": 700}}
    → {"type": "reply", "id": "s1", "data": null}
    ← {"type": "reply", "id": "c1", "data": {"order": 1, "status": "placed", "total": 700, "reason": null}}

Answering ``order.confirm`` with an error frame
(``{"type": "error", "id": "s1", "code": "declined", "message": "too dear"}``) declines: the reply
to ``c1`` is ``{"order": null, "status": "declined", "total": 700, "reason": "too dear"}``.
No answer within :data:`CONFIRM_WITHIN` seconds: ``c1`` is answered with the error frame
``{"type": "error", "id": "c1", "code": "not_confirmed", ...}``. While the server waits, the
session keeps reading: the client's answer is read at once, and other messages queue behind it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from pyfly_ws import (
    Container,
    MessageError,
    RequestError,
    RequestTimeoutError,
    WebSocketSession,
    create_app,
    emits,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.adapter import ASGIApp

CONFIRM_WITHIN = 10.0
"""Seconds the client has to confirm an order."""
PRICES = {"tea": 350, "coffee": 420, "cake": 500}
"""The menu, in cents."""


@dataclass(frozen=True, slots=True)
class Order:
    """The data of ``order.place``: what, and how many (1 to 20)."""

    item: Literal["tea", "coffee", "cake"]
    quantity: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.quantity <= 20:
            raise ValueError("the quantity is 1 to 20")


@dataclass(frozen=True, slots=True)
class Confirm:
    """The data of the server's ``order.confirm`` request."""

    item: str
    quantity: int
    total: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """The reply to ``order.place``: the order's number once placed, or why it was not."""

    order: int | None
    status: Literal["placed", "declined"]
    total: int
    reason: str | None = None


@rest_controller
@request_mapping("/ws")
@websocket_mapping("/orders")
class OrdersController:
    """Places an order once its client confirms it."""

    def __init__(self, confirm_within: float = CONFIRM_WITHIN) -> None:
        self.confirm_within = confirm_within
        self.numbers = itertools.count(1)

    @message_mapping("order.place")
    @emits(
        "order.confirm",
        Confirm,
        reply=None,
        description="Asks the client to confirm the order: a reply confirms it, an error frame declines it.",
    )
    async def place(self, session: WebSocketSession, data: Order) -> Outcome:
        total = PRICES[data.item] * data.quantity
        within = self.confirm_within
        try:
            await session.request("order.confirm", Confirm(data.item, data.quantity, total), timeout=within)
        except RequestTimeoutError:
            raise MessageError("not_confirmed", f"the order was not confirmed within {within:g} s") from None
        except RequestError as declined:  # the client answered with an error frame
            return Outcome(None, "declined", total, declined.message or declined.code)
        return Outcome(next(self.numbers), "placed", total)


def build(adapter: str | None = None, confirm_within: float = CONFIRM_WITHIN) -> ASGIApp:
    """The orders application on ``adapter``, giving clients ``confirm_within`` seconds to confirm."""
    container = Container()
    container.register(OrdersController, factory=lambda: OrdersController(confirm_within))
    app: ASGIApp = create_app(container, adapter)
    return app


app = build()
