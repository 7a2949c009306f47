"""A controller whose sessions wait for the client, and a check that an app drains them on shutdown."""

from __future__ import annotations

from typing import Any, ClassVar

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import ASGIClient


@rest_controller
@request_mapping("/held")
class Held:
    """Sessions that stay open until the client or a drain ends them; ``closed`` records how."""

    closed: ClassVar[list[tuple[int | None, str]]] = []

    @websocket_mapping("")
    async def hold(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        async for _ in session.iter_text():
            pass

    def on_disconnect(self, session: WebSocketSession) -> None:
        Held.closed.append((session.close_code, session.close_reason))


async def assert_drains_on_shutdown(app: Any) -> None:
    """Two sessions open on ``app``; its lifespan shutdown must close both with 1001 and run ``on_disconnect``."""
    Held.closed.clear()
    async with ASGIClient(app) as client, client.connect("/held") as one, client.connect("/held") as two:
        assert await one.receive() == await two.receive() == "ready"
        await client.shutdown()
        assert await one.wait_closed() == await two.wait_closed() == (1001, "server shutting down")
    assert Held.closed == [(1001, "server shutting down")] * 2
