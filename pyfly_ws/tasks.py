"""Tasks owned by no caller's task group: the session helpers, the timekeeper and the hub's background work.

A task group would tie such a task to the scope that started it; these must run
beside a handler, or outlive a lifespan hook, without holding either open.
Each runs on whichever event loop is running (asyncio or trio).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["asyncio_task_getter", "current_loop", "spawn_system_task"]

_running: set[asyncio.Task[Any]] = set()  # strong references until each task ends


def spawn_system_task(func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
    """Run ``func(*args)`` in a task of its own, with a copy of the caller's context variables.

    The task must handle its own exceptions: on trio an escaping one ends the run.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio

        trio.lowlevel.spawn_system_task(func, *args, context=contextvars.copy_context())
        return
    task = loop.create_task(func(*args))
    _running.add(task)
    task.add_done_callback(_running.discard)


def current_loop() -> object:
    """The running event loop (asyncio) or run (trio): the same object for as long as it runs."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.lowlevel.current_trio_token()


def asyncio_task_getter() -> Callable[[], asyncio.Task[Any] | None] | None:
    """A cheap ``current_task()`` for the running asyncio loop, to call once per message; ``None`` on trio.

    On Python 3.11, ``asyncio.current_task`` is written in Python; the loop's
    entry in asyncio's table of current tasks is read directly instead.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    global _getter
    if _getter is not None and _getter.args[0] is loop:
        return _getter
    table = getattr(asyncio.tasks, "_current_tasks", None)
    if sys.version_info < (3, 12) and isinstance(table, dict):
        _getter = functools.partial(table.get, loop)
        return _getter
    return asyncio.current_task


_getter: functools.partial[asyncio.Task[Any] | None] | None = None  # the last loop's, shared by its sessions
