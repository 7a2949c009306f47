"""Waiting for a condition that another thread (the server's) makes true."""

from __future__ import annotations

from collections.abc import Callable

import anyio


async def eventually(predicate: Callable[[], bool], within: float = 5.0, interval: float = 0.01) -> None:
    """Return once ``predicate()`` is true; fail the test after ``within`` seconds."""
    with anyio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - the state lives in the server's thread, not ours
            await anyio.sleep(interval)
