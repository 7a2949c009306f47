"""Broadcast under the default limits: members that stop reading never stall the others.

The controller is the seed's complete chat example, its loop as written there:
every message goes to every member with ``await client.send_text(msg)``.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import ASGIClient, TestSession

from ..context import CaseContext
from ..registry import case
from ..stalled import not_reading

STALLED = 20
"""Members that complete the handshake and never read."""
READERS = 5
"""Members that read everything and each send :data:`MESSAGES`."""
MESSAGES = 200
SIZE = 64 * 1024
"""Bytes of each message: large enough that a stalled member's buffers fill within a few dozen."""
WITHIN = 20.0
"""Seconds the readers have to receive every message."""


@rest_controller
@request_mapping("/seed")
class SeedChatController:
    """Broadcasts each received message to every connected client (the seed's loop, unchanged)."""

    def __init__(self) -> None:
        self._clients: set[WebSocketSession] = set()

    @websocket_mapping("/chat")
    async def chat(self, session: WebSocketSession) -> None:
        await session.accept()
        self._clients.add(session)
        try:
            while True:
                msg = await session.receive_text()
                for client in list(self._clients):
                    await client.send_text(msg)
        finally:
            self._clients.discard(session)

    async def on_disconnect(self, session: WebSocketSession) -> None:
        self._clients.discard(session)


@case("outgoing.seed_broadcast", server_requires=("send_backpressure",))
async def seed_broadcast(ctx: CaseContext) -> None:
    """The seed's chat loop with 20 members that never read: 5 readers still get all 1,000 messages within 20 s.

    Each reader sends its next message once its previous one came back, as a
    chat client does. A send to a member from another member's handler must
    not wait for that member's client: a stalled member is closed (1013) once
    its queue overflows, and the loop goes on.
    """
    async with AsyncExitStack() as stack:
        for _ in range(STALLED):
            if isinstance(ctx.client, ASGIClient):
                await stack.enter_async_context(ctx.connect("/seed/chat"))  # never read: its buffer fills
            else:
                await stack.enter_async_context(not_reading(ctx.client.url("/seed/chat", f"t={ctx.token}")))
        readers = [await stack.enter_async_context(ctx.connect("/seed/chat")) for _ in range(READERS)]
        received = [0] * READERS
        with anyio.move_on_after(WITHIN):
            async with anyio.create_task_group() as group:
                for index, ws in enumerate(readers):
                    group.start_soon(_read_and_send, ws, index, received)
        expected = READERS * MESSAGES
        assert received == [expected] * READERS, (
            f"within {WITHIN:g} s the readers got {received} messages of {expected} each"
        )


async def _read_and_send(ws: TestSession, index: int, received: list[int]) -> None:
    """Send :data:`MESSAGES` messages, each once the last came back, and read until every reader's have come."""
    padding = "x" * SIZE
    await ws.send_text(f"{index}:0:{padding}")
    sent = 1
    while received[index] < READERS * MESSAGES:
        text = await ws.receive_text(timeout=WITHIN)
        received[index] += 1
        sender, number, _ = text.split(":", 2)
        if int(sender) == index and int(number) == sent - 1 and sent < MESSAGES:
            await ws.send_text(f"{index}:{sent}:{padding}")
            sent += 1
