"""A fan-out group for the examples, built on the public API and anyio only.

Each member gets a bounded outbox drained by its own task, so publishing never
waits on a member: a slow member whose outbox fills is dropped (and closed
with 1013), a dead one is dropped when its send fails, and the others go on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from pyfly_ws import CloseCode, WebSocketDisconnect, WebSocketSession


class FanOut:
    """Members receive every published message, in publish order."""

    def __init__(self, outbox_size: int = 256) -> None:
        self.outbox_size = outbox_size
        self._members: dict[WebSocketSession, tuple[MemoryObjectSendStream[Any], TaskGroup]] = {}

    def __len__(self) -> int:
        return len(self._members)

    @asynccontextmanager
    async def member(self, session: WebSocketSession) -> AsyncIterator[None]:
        """Keep ``session`` in the group for the duration of the ``async with`` block."""
        send, receive = anyio.create_memory_object_stream[Any](self.outbox_size)
        async with anyio.create_task_group() as group:
            self._members[session] = (send, group)
            group.start_soon(self._pump, session, receive)
            try:
                yield
            finally:
                self._drop(session)
                group.cancel_scope.cancel()

    def publish(self, message: Any) -> None:
        """Queue ``message`` (str, bytes, or JSON-ready data) for every member; never waits."""
        for session, (outbox, group) in list(self._members.items()):
            try:
                outbox.send_nowait(message)
            except anyio.WouldBlock:
                self._drop(session)
                group.start_soon(session.close, CloseCode.TRY_AGAIN_LATER, "too slow")
            except anyio.BrokenResourceError:
                self._drop(session)

    def _drop(self, session: WebSocketSession) -> None:
        entry = self._members.pop(session, None)
        if entry is not None:
            entry[0].close()

    async def _pump(self, session: WebSocketSession, receive: Any) -> None:
        async with receive:
            async for message in receive:
                try:
                    if isinstance(message, str | bytes):
                        await session.send(message)
                    else:
                        await session.send_json(message)
                except WebSocketDisconnect:
                    self._drop(session)
                    return
