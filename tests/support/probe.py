"""Reports from a server's thread to the test: an event queue, and a gate the test can open."""

from __future__ import annotations

import queue
import threading
from typing import Any

import anyio


class Probe:
    """What the server side reports to the test, across the server's thread."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.gate = threading.Event()

    def put(self, *event: Any) -> None:
        """Report one event (a tuple) to the test."""
        self.events.put(event)

    async def next(self) -> tuple[Any, ...]:
        """The next reported event; fails after 5 seconds without one."""
        return await anyio.to_thread.run_sync(self.events.get, True, 5.0)
