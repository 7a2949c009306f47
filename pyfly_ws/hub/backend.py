"""The hub's backend contract: how publications reach the hub's members in other processes, and how rooms
with history keep theirs.

The :class:`~pyfly_ws.hub.Hub` delivers a publication to a room without
history to the members in its own process itself; the backend carries it to
the other processes and brings theirs back (:meth:`Receiver.receive`). A
publication to a room with history is *stored*: the backend gives it the
room's next :class:`~pyfly_ws.hub.Position`, keeps it, and hands it to every
process, this one included (:meth:`Receiver.receive_stored`), in position
order, with none missing and none twice. It also keeps the cluster-wide member
counts. The reference implementation for one process is
:class:`~pyfly_ws.hub.MemoryBackend`; :class:`~pyfly_ws.hub.RedisBackend`
spans processes and machines.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from anyio.abc import TaskGroup

from .history import HistoryPolicy, Position, Stored

__all__ = ["OWN", "Backend", "HubUnavailableError", "Receiver", "members_rooms"]

OWN = "\x00"
"""What the names of the hub's own rooms start with (its control room, with no members): no application room does."""


def members_rooms(rooms: set[str]) -> int:
    """How many of ``rooms`` are rooms of members, not the hub's own."""
    return sum(1 for room in rooms if not room.startswith(OWN))


class HubUnavailableError(RuntimeError):
    """The hub's backend (Redis) cannot be reached: a publication did not reach the other processes."""


class Receiver(Protocol):
    """What a backend hands publications to: the hub."""

    def history(self, room: str) -> HistoryPolicy | None:
        """The history ``room`` keeps, if any."""
        ...

    def receive(self, room: str, envelope: bytes) -> None:
        """A publication of another process to ``room``, a room without history."""
        ...

    def receive_stored(self, room: str, position: Position, envelope: bytes) -> None:
        """The publication at ``position`` of ``room``, a room with history (from any process)."""
        ...

    def resync(self, room: str) -> None:
        """Publications to ``room`` may have been missed here (an outage): its members must resync."""
        ...

    def presence_changed(self, room: str, identity: str, present: bool) -> None:
        """``identity`` came into ``room`` (its first session in any process) or left it (its last one)."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Carries publications between the processes that share rooms."""

    async def start(self, receiver: Receiver, tasks: TaskGroup) -> None:
        """Connect; from now on hand ``receiver`` the publications of the subscribed rooms.

        ``tasks`` lives as long as the hub: a backend runs its background work (a reader) there.
        """
        ...

    async def stop(self) -> None:
        """Disconnect and forget this process's members in the cluster-wide counts."""
        ...

    async def subscribe(self, room: str) -> Position | None:
        """Start receiving the publications to ``room``.

        For a room with history, it returns once subscribed, with the position
        after which every publication reaches :meth:`Receiver.receive_stored`.
        """
        ...

    async def unsubscribe(self, room: str) -> None:
        """Stop receiving the publications to ``room``."""
        ...

    async def publish(self, room: str, envelope: bytes) -> None:
        """Send ``envelope`` to every other process subscribed to ``room``, in the order of calls.

        Raises :class:`~pyfly_ws.hub.HubUnavailableError` if it cannot.
        """
        ...

    async def store(self, room: str, envelope: bytes, policy: HistoryPolicy, mark: int) -> None:
        """Give ``envelope`` the next position of ``room``, keep it under ``policy``, and deliver it everywhere.

        One atomic step: no process sees it before it is kept, and positions
        follow the order of the steps. Where ``mark`` is not -1, the position
        is written over the 25 bytes of ``envelope`` from ``mark`` (where
        :data:`~pyfly_ws.hub.POSITION_MARK` stood). Raises
        :class:`~pyfly_ws.hub.HubUnavailableError` if it cannot.
        """
        ...

    async def read(self, room: str, since: int | None, policy: HistoryPolicy) -> Stored:
        """The top of ``room``'s history (begun now if there is none), and what is kept after offset ``since``."""
        ...

    async def add_members(self, room: str, delta: int) -> None:
        """Count ``delta`` members more (or fewer) of this process in ``room``."""
        ...

    async def count(self, room: str) -> int:
        """Members of ``room`` in every process."""
        ...

    async def present(self, room: str, identity: str, here: bool) -> None:
        """This process has (``here``) or no longer has a session of ``identity`` in ``room``.

        The backend calls :meth:`Receiver.presence_changed` in every process
        that follows the room when that changes who is in it across processes.
        """
        ...

    async def presence(self, room: str) -> set[str]:
        """The identities with a session in ``room``, in every process that is alive."""
        ...
