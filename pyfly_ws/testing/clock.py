"""``FakeClock``: a wall clock that moves only when a test says so."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["FakeClock"]


class FakeClock:
    """A :class:`~pyfly_ws.clock.Clock` for tests: give it to ``SessionRegistry(clock=...)`` (and a verifier).

    It starts at ``start`` (now, by default) and moves by :meth:`advance`;
    every registry using it then looks at its sessions' expiry at once.
    """

    __slots__ = ("_now", "_listeners")

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._listeners: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"FakeClock({self._now!r})"

    def time(self) -> float:
        """The fake time, in seconds since the epoch."""
        return self._now

    def on_jump(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each :meth:`advance`."""
        self._listeners.append(callback)

    def advance(self, seconds: float) -> None:
        """Move the time ``seconds`` forward (not back: expiries only come closer)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"advance() takes a number of seconds >= 0, got {seconds!r}")
        self._now += seconds
        for callback in list(self._listeners):
            callback()
