"""Rooms and broadcast: the :class:`Hub`, in one process (memory) or across processes (Redis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import Backend, Deliver, HubUnavailableError
from .hub import Hub
from .memory import MemoryBackend

if TYPE_CHECKING:
    from .redis import RedisBackend

__all__ = ["Backend", "Deliver", "Hub", "HubUnavailableError", "MemoryBackend", "RedisBackend"]


def __getattr__(name: str) -> object:
    if name == "RedisBackend":  # imported on use: it needs the optional redis-py
        from .redis import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
