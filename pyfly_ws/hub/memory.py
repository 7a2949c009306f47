"""``MemoryBackend``: the hub's backend for an application served by one process."""

from __future__ import annotations

import logging

from anyio.abc import TaskGroup

from .backend import Deliver
from .workers import worker_processes

__all__ = ["MemoryBackend"]

logger = logging.getLogger("pyfly_ws.hub")

_warned = False
"""Whether this process already warned that its in-memory rooms are split across workers."""


class MemoryBackend:
    """No other process to reach: publications stay in this one, and counts are this process's own."""

    def __init__(self) -> None:
        self._members: dict[str, int] = {}

    async def start(self, deliver: Deliver, tasks: TaskGroup) -> None:
        """Nothing to connect to; warns (once a process) if the server runs several worker processes."""
        global _warned
        workers = worker_processes()
        if workers > 1 and not _warned:
            _warned = True
            logger.warning(
                "the hub keeps its rooms in memory, in this process only, but the server runs %d worker processes: "
                "members on different workers miss each other's messages. Share the rooms through Redis "
                '(Hub("redis://HOST:6379/0"), pip install "pyfly-ws[redis]") or run one worker',
                workers,
            )

    async def stop(self) -> None:
        """Forget the counts."""
        self._members.clear()

    async def subscribe(self, room: str) -> None:
        """Nothing to do: the hub delivers to its own members."""

    async def unsubscribe(self, room: str) -> None:
        """Nothing to do."""

    async def publish(self, room: str, envelope: bytes) -> None:
        """Nothing to do: no other process shares the room."""

    async def add_members(self, room: str, delta: int) -> None:
        """Keep this process's count of ``room``."""
        count = self._members.get(room, 0) + delta
        if count > 0:
            self._members[room] = count
        else:
            self._members.pop(room, None)

    async def count(self, room: str) -> int:
        """Members of ``room`` in this process."""
        return self._members.get(room, 0)
