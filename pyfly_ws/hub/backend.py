"""The hub's backend contract: how messages reach the hub's members in other processes.

The :class:`~pyfly_ws.hub.Hub` always delivers to the members in its own process
itself; a backend carries each publication to the other processes (and brings
theirs back), and keeps the cluster-wide member counts. The reference
implementation for one process is :class:`~pyfly_ws.hub.MemoryBackend`;
:class:`~pyfly_ws.hub.RedisBackend` spans processes and machines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from anyio.abc import TaskGroup

__all__ = ["Backend", "Deliver", "HubUnavailableError"]


class HubUnavailableError(RuntimeError):
    """The hub's backend (Redis) cannot be reached: a publication did not reach the other processes."""


Deliver = Callable[[str, bytes], None]
"""``deliver(room, envelope)``: what a backend calls for each publication that came from another process."""


@runtime_checkable
class Backend(Protocol):
    """Carries publications between the processes that share rooms."""

    async def start(self, deliver: Deliver, tasks: TaskGroup) -> None:
        """Connect; from now on call ``deliver`` for every publication of another process to a subscribed room.

        ``tasks`` lives as long as the hub: a backend runs its background work (a reader) there.
        """
        ...

    async def stop(self) -> None:
        """Disconnect and forget this process's members in the cluster-wide counts."""
        ...

    async def subscribe(self, room: str) -> None:
        """Start receiving the publications of other processes to ``room``."""
        ...

    async def unsubscribe(self, room: str) -> None:
        """Stop receiving the publications to ``room``."""
        ...

    async def publish(self, room: str, envelope: bytes) -> None:
        """Send ``envelope`` to every other process subscribed to ``room``, in the order of calls.

        Raises :class:`~pyfly_ws.hub.HubUnavailableError` if it cannot.
        """
        ...

    async def add_members(self, room: str, delta: int) -> None:
        """Count ``delta`` members more (or fewer) of this process in ``room``."""
        ...

    async def count(self, room: str) -> int:
        """Members of ``room`` in every process."""
        ...
