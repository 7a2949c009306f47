"""``Clock``: the one source of wall-clock time for credentials, which tests can replace.

Credentials expire at a wall-clock time (a JWT's ``exp`` is seconds since the
epoch), so the code that checks an expiry asks a clock, never ``time.time()``
itself: a :class:`~pyfly_ws.SessionRegistry` has one (``clock=``), and so do the
verifiers that read times from a token. :class:`SystemClock` is the real
one; :class:`~pyfly_ws.testing.FakeClock` moves only when a test says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Wall-clock time, and a way to hear when it jumps (a fake clock moved by a test)."""

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def on_jump(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the time moves other than by waiting (never, for the system clock)."""
        ...


class SystemClock:
    """The system's wall clock."""

    __slots__ = ()

    def time(self) -> float:
        return time.time()

    def on_jump(self, callback: Callable[[], None]) -> None:
        """The system clock only moves by waiting: nothing to call."""

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
"""The clock used where none is given."""
