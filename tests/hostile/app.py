"""The application the hostile tests serve: an echo, a broadcast room and a stats endpoint.

Served by ``pyfly_ws_conformance.servers.running`` as ``tests.hostile.app:app``; the
adapter comes from the ``PYFLY_WS_ADAPTER`` environment variable.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from pathlib import Path

import anyio
import anyio.lowlevel

from pyfly_ws import Limits, WebSocketSession, create_app, request_mapping, rest_controller, websocket_mapping

ROOM_LIMITS = Limits(send_queue=64, overflow="close")
OVERFLOW_WITHIN = 120
"""Broadcast messages past a full queue (64) after which a client that reads nothing must have overflowed it."""


def _pad_size() -> int:
    """Bytes of padding per broadcast message, so that ``OVERFLOW_WITHIN`` messages outgrow a non-reader's buffers.

    Before the queue of a client that never reads fills, the server's TCP send buffer
    (autotuned up to the third figure of ``tcp_wmem``: 4 MiB on Linux by default, and
    on loopback it reaches it at once), the transport's 64 KiB and the client's small
    receive buffer take what is sent; the messages past them must fill the queue.
    """
    try:
        send_buffer = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        send_buffer = 4 * 1024 * 1024
    return max(16_000, (send_buffer + 256 * 1024) // OVERFLOW_WITHIN)


PAD = "x" * _pad_size()
"""Padding of each broadcast message (about 36 KB here), so that the room overflows a non-reader's queue."""


@rest_controller
@request_mapping("/h")
class EchoController:
    """Every message comes back as it went, text as text and bytes as bytes."""

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send(await session.receive())


@rest_controller
@request_mapping("/h")
class RoomController:
    """A broadcast room: ``go:N`` from any member posts ``m0``..``m{N-1}`` (padded) to every member."""

    def __init__(self) -> None:
        self.members: set[WebSocketSession] = set()
        self.left: Counter[str] = Counter()
        """How the members who left were closed, by close code."""
        self.refused: dict[WebSocketSession, tuple[int, float]] = {}
        """Members a post was refused to (too slow): the message number and when."""
        self.shed: list[tuple[int, float]] = []
        """For each refused member that left: the message refused, and the seconds from the refusal to leaving."""

    @websocket_mapping("/room", limits=ROOM_LIMITS)
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        self.members.add(session)
        try:
            async for text in session.iter_text():
                if text.startswith("go:"):
                    await self._broadcast(int(text[3:]))
        finally:
            self.members.discard(session)
            self.left[str(session.close_code)] += 1
            refused = self.refused.pop(session, None)
            if refused is not None:
                self.shed.append((refused[0], time.monotonic() - refused[1]))

    async def _broadcast(self, count: int) -> None:
        for i in range(count):
            message = f"m{i}:{PAD}"
            for member in list(self.members):
                if not member.post(message) and member not in self.refused:  # too slow: closed with 1013
                    self.refused[member] = (i, time.monotonic())
            await anyio.lowlevel.checkpoint()  # one round at a time: the writers run between rounds


@rest_controller
@request_mapping("/h")
class StatsController:
    """One JSON message about the serving process, then close: open sessions, asyncio tasks, RSS, the room."""

    def __init__(self, room: RoomController) -> None:
        self.room = room

    @websocket_mapping("/stats")
    async def stats(self, session: WebSocketSession) -> None:
        await session.accept()
        gc.collect()
        registry = session.registry
        assert registry is not None
        await session.send_json(
            {
                "open": registry.count() - 1,  # not this session
                "tasks": len(asyncio.all_tasks()),
                "rss_kib": _rss_kib(),
                "room": len(self.room.members),
                "room_left": dict(self.room.left),
                "room_shed": {
                    "count": len(self.room.shed),
                    "first_refused": min((i for i, _ in self.room.shed), default=None),
                    "last_refused": max((i for i, _ in self.room.shed), default=None),
                    "slowest_leave_s": round(max((s for _, s in self.room.shed), default=0.0), 3),
                },
            }
        )


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


app = create_app([EchoController, RoomController, StatsController])
