"""The ``asgi-plain`` test adapter really is on the plain path: every message goes through Connection.receive/send.

A subclass that overrides ``receive``/``send`` would turn ``direct_events`` off by itself (see
``ASGIConnection.__init_subclass__``), so the counting subclass below copies its base's setting
explicitly: it counts calls without changing which path the session takes.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import pytest

from pyfly_ws import Adapter, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.asgi import ASGIConnection
from pyfly_ws.asgi import adapter as asgi_adapter
from pyfly_ws.testing import ASGIClient
from tests.support.plain_asgi import PlainConnection
from tests.support.plain_asgi import adapter as plain_adapter

MESSAGES: list[str | bytes] = ["one", b"two", "three", b"four"]
"""Text and bytes: the direct path covers receiving and sending both."""


@rest_controller
class Echo:
    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        for _ in MESSAGES:
            message = await session.receive()
            if isinstance(message, str):
                await session.send_text(message)
            else:
                await session.send_bytes(message)


def counting(base: type[ASGIConnection]) -> tuple[type[ASGIConnection], Counter[str]]:
    """A subclass of ``base`` on the same path as ``base``, and the count of its receive/send calls."""
    calls: Counter[str] = Counter()

    class Counting(base):  # type: ignore[valid-type,misc]
        __slots__ = ()
        direct_events: ClassVar[bool] = base.direct_events

        async def receive(self) -> str | bytes:
            calls["receive"] += 1
            return await super().receive()  # type: ignore[no-any-return]

        async def send(self, data: str | bytes) -> None:
            calls["send"] += 1
            await super().send(data)

    return Counting, calls


async def echo_through(adapter: Adapter) -> Counter[str]:
    """Echo MESSAGES over an app of ``adapter``, its connections counted; the calls counted."""
    app = create_app(Echo, adapter)
    app.connection_class, calls = counting(app.connection_class)
    async with ASGIClient(app) as client, client.connect("/echo") as ws:
        for message in MESSAGES:
            if isinstance(message, str):
                await ws.send_text(message)
                assert await ws.receive_text(timeout=5) == message
            else:
                await ws.send_bytes(message)
                assert await ws.receive_bytes(timeout=5) == message
    return calls


def test_the_plain_adapter_is_the_asgi_adapter_but_for_the_path() -> None:
    assert not PlainConnection.direct_events and ASGIConnection.direct_events
    assert plain_adapter.capabilities == asgi_adapter.capabilities
    assert plain_adapter.name == "asgi-plain"


@pytest.mark.anyio
async def test_on_the_plain_adapter_every_message_goes_through_receive_and_send() -> None:
    calls = await echo_through(plain_adapter)
    assert calls == Counter(receive=len(MESSAGES), send=len(MESSAGES))


@pytest.mark.anyio
async def test_on_the_direct_path_the_same_count_sees_no_message() -> None:
    """The counting subclass can tell the paths apart: over plain ASGIConnection the session bypasses it."""
    calls = await echo_through(asgi_adapter)
    assert calls == Counter()
