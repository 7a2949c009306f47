"""Rooms and broadcast: the :class:`Hub`, in one process (memory) or across processes (Redis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import Backend, HubUnavailableError, Receiver
from .history import POSITION_MARK, HistoryPolicy, Joined, Missed, Position, Stored
from .hub import Hub, Resync
from .memory import MemoryBackend

if TYPE_CHECKING:
    from .cluster import RedisClusterBackend
    from .redis import RedisBackend

__all__ = [
    "POSITION_MARK",
    "Backend",
    "HistoryPolicy",
    "Hub",
    "HubUnavailableError",
    "Joined",
    "MemoryBackend",
    "Missed",
    "Position",
    "Receiver",
    "RedisBackend",
    "RedisClusterBackend",
    "Resync",
    "Stored",
]


def __getattr__(name: str) -> object:
    if name == "RedisBackend":  # imported on use: it needs the optional redis-py
        from .redis import RedisBackend

        return RedisBackend
    if name == "RedisClusterBackend":  # the same, on a Redis Cluster
        from .cluster import RedisClusterBackend

        return RedisClusterBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
