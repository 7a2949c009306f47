"""``LazyController``: one controller, built through its source on first use, exactly once."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio

__all__ = ["LazyController"]

_UNSET: Any = object()


class LazyController:
    """Resolves one controller through its source on first use, exactly once."""

    __slots__ = ("_resolve", "controller", "instance", "_instance", "_lock")

    def __init__(self, resolve: Any, controller: type) -> None:
        self._resolve = resolve
        self.controller = controller
        self.instance: Any = None
        """The controller instance once built, else ``None`` (then await :meth:`get`); read once per connection."""
        self._instance: Any = _UNSET
        self._lock: anyio.Lock | None = None

    def __copy__(self) -> LazyController:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyController:
        return self  # frameworks deep-copy route options; the controller must stay one

    @property
    def resolved(self) -> bool:
        """Whether the controller was already built."""
        return self._instance is not _UNSET

    async def get(self) -> Any:
        """The controller instance; the first callers wait while one of them builds it."""
        if self._instance is not _UNSET:
            return self._instance
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._instance is _UNSET:
                instance = self._resolve(self.controller)
                if isinstance(instance, Awaitable):
                    instance = await instance
                self._instance = self.instance = instance
        return self._instance
