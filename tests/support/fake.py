"""An in-memory :class:`~pyfly_ws.Connection` for unit tests of the core."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from pyfly_ws import Handshake, WebSocketDisconnect
from pyfly_ws.session.connection import RawHeaders


@dataclass
class FakeConnection:
    """Feeds scripted messages to the core and records what the core did."""

    handshake: Handshake = field(
        default_factory=lambda: Handshake("/ws/x", b"a=1&a=2&b=", [(b"x-token", b"t")], ("127.0.0.1", 5), ("chat",))
    )
    incoming: list[str | bytes | WebSocketDisconnect] = field(default_factory=list)
    sent: list[str | bytes] = field(default_factory=list)
    accepted: tuple[str | None, RawHeaders] | None = None
    closed: tuple[int, str] | None = None
    gone_on_send: bool = False
    block_when_empty: bool = False

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        assert self.accepted is None and self.closed is None, "accept() called out of order"
        self.accepted = (subprotocol, list(headers))

    async def receive(self) -> str | bytes:
        assert self.accepted is not None, "receive() before accept()"
        if not self.incoming:
            if self.block_when_empty:
                await anyio.sleep_forever()
            self.incoming.append(WebSocketDisconnect(1000, "bye"))
        item = self.incoming.pop(0)
        if isinstance(item, WebSocketDisconnect):
            self.incoming.insert(0, item)
            raise WebSocketDisconnect(item.code, item.reason)
        return item

    async def send(self, data: str | bytes) -> None:
        assert self.accepted is not None, "send() before accept()"
        if self.gone_on_send:
            raise WebSocketDisconnect(1006, "")
        self.sent.append(data)

    async def close(self, code: int, reason: str) -> None:
        assert self.closed is None, "close() called twice"
        self.closed = (code, reason)
