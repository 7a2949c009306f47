"""``MemoryBackend``: the hub's backend for an application served by one process."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque

from anyio.abc import TaskGroup

from .backend import Receiver
from .history import POSITION_MARK, HistoryPolicy, Position, Stored, new_epoch
from .workers import worker_processes

__all__ = ["MemoryBackend"]

logger = logging.getLogger("pyfly_ws.hub")

_warned = False
"""Whether this process already warned that its in-memory rooms are split across workers."""

_EPOCH_GRACE = 3600.0
"""Seconds a room's epoch outlives its kept publications (so a late rejoin hears ``gap``, not ``epoch``)."""


class _History:
    """One room's kept publications: ``(offset, stored at, envelope)``, oldest first."""

    __slots__ = ("epoch", "top", "kept", "touched")

    def __init__(self, size: int) -> None:
        self.epoch = new_epoch()
        self.top = 0
        self.kept: deque[tuple[int, float, bytes]] = deque(maxlen=size)
        self.touched = time.monotonic()


class MemoryBackend:
    """No other process to reach: publications stay in this one, and counts are this process's own."""

    def __init__(self) -> None:
        self._members: dict[str, int] = {}
        self._histories: OrderedDict[str, _History] = OrderedDict()
        self._idle: OrderedDict[str, _History] = OrderedDict()
        """Histories whose publications all expired: their epoch and top only, until the grace is over."""
        self._present: dict[str, set[str]] = {}
        self.receiver: Receiver | None = None
        """Where stored publications go (the hub sets it at once: an in-memory hub works unstarted)."""

    unheard_rooms = 0
    """Rooms whose publications this process does not receive: none, there is no link to lose."""

    async def start(self, receiver: Receiver, tasks: TaskGroup) -> None:
        """Nothing to connect to; warns (once a process) if the server runs several worker processes."""
        global _warned
        self.receiver = receiver
        workers = worker_processes()
        if workers > 1 and not _warned:
            _warned = True
            logger.warning(
                "the hub keeps its rooms in memory, in this process only, but the server runs %d worker processes: "
                "members on different workers miss each other's messages. Share the rooms through Redis "
                '(Hub("redis://HOST:6379/0"), pip install "pyfly-ws[redis]") or run one worker',
                workers,
            )

    async def stop(self) -> None:
        """Forget the counts (the histories stay: the process does)."""
        self._members.clear()

    async def subscribe(self, room: str) -> Position | None:
        """Nothing to subscribe to: the hub delivers to its own members; the top of a room with history."""
        receiver = self.receiver
        policy = receiver.history(room) if receiver is not None else None
        if policy is None:
            return None
        history = self._history(room, policy)
        return Position(history.epoch, history.top)

    async def unsubscribe(self, room: str) -> None:
        """Nothing to do."""

    async def publish(self, room: str, envelope: bytes) -> None:
        """Nothing to do: no other process shares the room."""

    async def store(self, room: str, envelope: bytes, policy: HistoryPolicy, mark: int) -> None:
        """Number and keep the publication, and hand it to the hub at once."""
        history = self._history(room, policy)
        history.top += 1
        position = Position(history.epoch, history.top)
        if mark >= 0:
            envelope = envelope[:mark] + str(position).encode("ascii") + envelope[mark + len(POSITION_MARK) :]
        history.kept.append((history.top, history.touched, envelope))
        if self.receiver is not None:
            self.receiver.receive_stored(room, position, envelope)

    async def read(self, room: str, since: int | None, policy: HistoryPolicy) -> Stored:
        """The top of the room's history, and the publications kept after ``since`` not older than the ttl."""
        history = self._history(room, policy, touch=False)
        top = Position(history.epoch, history.top)
        if since is None or since >= history.top:
            return Stored(top)
        oldest = time.monotonic() - policy.ttl
        entries = [(offset, envelope) for offset, at, envelope in history.kept if offset > since and at >= oldest]
        first = entries[0][0] if entries else history.top + 1
        return Stored(top, entries, complete=first == since + 1)

    async def add_members(self, room: str, delta: int) -> None:
        """Keep this process's count of ``room``."""
        count = self._members.get(room, 0) + delta
        if count > 0:
            self._members[room] = count
        else:
            self._members.pop(room, None)

    async def count(self, room: str) -> int:
        """Members of ``room`` in this process."""
        return self._members.get(room, 0)

    async def present(self, room: str, identity: str, here: bool) -> None:
        """Note who is in the room, and tell the hub at once: this process is every process."""
        self.mark(room, identity, here)

    def mark(self, room: str, identity: str, here: bool) -> None:
        """:meth:`present`, without waiting (the hub calls it as a session ends)."""
        present = self._present.setdefault(room, set())
        if here == (identity in present):
            return
        if here:
            present.add(identity)
        else:
            present.discard(identity)
            if not present:
                del self._present[room]
        if self.receiver is not None:
            self.receiver.presence_changed(room, identity, here)

    async def presence(self, room: str) -> set[str]:
        """The identities with a session in ``room``."""
        return set(self._present.get(room, ()))

    def _history(self, room: str, policy: HistoryPolicy, *, touch: bool = True) -> _History:
        """The room's history (begun if it has none).

        Histories are kept least recently stored first: those idle past their
        ttl let go of their publications (all expired) and move to the idle
        ones, which are forgotten past the grace. So memory holds publications
        only of rooms in use, whatever number of rooms came and went.
        """
        now = time.monotonic()
        histories, idle = self._histories, self._idle
        history = histories.get(room)
        if history is None:
            history = idle.get(room)
            if history is not None and not touch:
                return history  # read: it stays idle
            if history is not None:
                del idle[room]
            else:
                history = _History(policy.size)
            histories[room] = history
        if history.kept.maxlen != policy.size:
            history.kept = deque(history.kept, maxlen=policy.size)
        if touch:
            history.touched = now
            histories.move_to_end(room)
        while histories:
            name, oldest = next(iter(histories.items()))
            if name == room or now - oldest.touched < policy.ttl:
                break
            del histories[name]
            oldest.kept.clear()
            idle[name] = oldest
        while idle:
            name, oldest = next(iter(idle.items()))
            if now - oldest.touched < policy.ttl + _EPOCH_GRACE:
                break
            del idle[name]
        return history
