"""``Timekeeper``: one task per registry that enforces the time limits of all its sessions.

The time limits are ``idle_timeout``, ``first_message_timeout`` and
``send_timeout`` (the last is on by default). The timekeeper looks at every live
session of its registry, asks each when it next needs a look
(:meth:`Supervisor.due <pyfly_ws.lifecycle.supervisor.Supervisor.due>`), and sleeps until
the earliest such time, but never longer than a quarter of the shortest limit
among them: a write that starts while it sleeps is found at most that much late.
Nothing on the message path sets a timer, and no session holds a task or a
registration of its own for this: an accept only makes sure the task runs.
Once it finds no live session with a time limit, the task waits :data:`LINGER`
seconds for one and then ends; the next accept starts it again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import anyio

from ..tasks import current_loop, spawn_system_task

__all__ = ["LINGER", "MIN_NAP", "Timekeeper", "Watched"]

_asyncio_loop = asyncio._get_running_loop  # the running asyncio loop, or None (on trio)
_INF = math.inf

MIN_NAP = 0.01
"""The shortest sleep between two looks, in seconds."""
LINGER = 1.0
"""Seconds the task waits, once no session has a time limit, before it ends."""


class Watched(Protocol):
    """A session's time limits, as the timekeeper looks at them: a :class:`~.supervisor.Supervisor`."""

    @property
    def shortest_limit(self) -> float:
        """The shortest time limit, in seconds (``inf`` without one): the timekeeper's pace."""
        ...

    def due(self, now: float) -> float | None:
        """When the session next needs a look; ``None`` once there is nothing more to watch."""
        ...


class Timekeeper:
    """Watches the time limits of the sessions ``live()`` yields, from a single task."""

    __slots__ = ("_live", "_nap", "_wake", "_token")

    def __init__(self, live: Callable[[], Iterable[Watched]]) -> None:
        self._live = live
        self._nap = math.inf
        self._wake: anyio.Event | None = None
        self._token: object | None = None  # the event loop the task runs on, while it runs

    @property
    def running(self) -> bool:
        """Whether the task is running (on some event loop)."""
        return self._token is not None

    def watch(self, supervisor: Watched) -> None:
        """``supervisor``'s session was accepted: make sure its time limits are looked at in time.

        :meth:`~pyfly_ws.lifecycle.supervisor.Supervisor.accepted` asks this method's own test first
        (written out there, once per connection) and calls it only when there is something to do.
        """
        limit = supervisor.shortest_limit
        if limit == _INF:
            return
        token = _asyncio_loop() or current_loop()  # asyncio's C getter first: this runs once per connection
        if self._token is not token:  # not running, or running on an event loop that is gone
            self._token = token
            self._nap = max(MIN_NAP, limit / 4)
            spawn_system_task(self._run, token)
        elif limit / 4 < self._nap:
            self._nap = max(MIN_NAP, limit / 4)
            self.poke()

    def poke(self) -> None:
        """Look again now (a session with a shorter limit than any before came)."""
        if self._wake is not None:
            self._wake.set()

    async def _run(self, token: object) -> None:
        idle_since = time.monotonic()
        try:
            while self._token is token:
                now = time.monotonic()
                nap = math.inf
                wake = math.inf
                for supervisor in list(self._live()):
                    if supervisor.shortest_limit == math.inf:
                        continue
                    nap = min(nap, supervisor.shortest_limit / 4)
                    due = supervisor.due(now)
                    if due is not None:
                        wake = min(wake, due)
                if nap == math.inf:
                    if now - idle_since >= LINGER:
                        break
                    wake = idle_since + LINGER
                else:
                    idle_since = now
                    self._nap = max(MIN_NAP, nap)
                    wake = min(wake, now + self._nap)
                self._wake = event = anyio.Event()
                with anyio.move_on_after(max(MIN_NAP, wake - time.monotonic())):
                    await event.wait()
        finally:
            if self._token is token:
                self._token = None
                self._wake = None
