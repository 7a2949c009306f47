"""Room history: what a room keeps (:class:`HistoryPolicy`), where a publication sits in it (:class:`Position`),
and what a rejoining member got back (:class:`Joined`).

A room with history numbers its publications: each gets a :class:`Position`,
an *epoch* (which history: a new one begins when the stored history is lost,
say a Redis restart without persistence) and an *offset* (1, 2, 3, … in the
epoch). A member that lost its connection rejoins with the position of the
last publication it got, and receives every later one still kept.
"""

from __future__ import annotations

import fnmatch
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["POSITION_MARK", "HistoryPolicy", "Joined", "Missed", "Position", "Stored", "policy_for"]

_EPOCH_LENGTH = 8
_OFFSET_DIGITS = 16
_TOKEN = re.compile(rf"([0-9a-z]{{{_EPOCH_LENGTH}}})-([0-9]{{{_OFFSET_DIGITS}}})")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

POSITION_MARK = "~pyfly-ws:position-here~~"
"""Where a publication's position is written into it: the hub overwrites the first occurrence.

It is as long as a written position (25 characters), so a codec that writes
strings as they are (JSON, MessagePack) gives a frame the hub can fill in
without decoding it, in any process. A message-level push carries it by
itself; raw data may hold it, for instance ``f'{{"at":"{POSITION_MARK}","text":…}}'``.
"""


def new_epoch() -> str:
    """A fresh epoch: eight random characters of ``0-9a-z``."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(_EPOCH_LENGTH))


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a publication sits in its room's history: ``str(position)`` is how it travels (25 characters)."""

    epoch: str
    offset: int

    def __post_init__(self) -> None:
        if not isinstance(self.epoch, str) or len(self.epoch) != _EPOCH_LENGTH:
            raise ValueError(f"an epoch is {_EPOCH_LENGTH} characters of 0-9a-z, got {self.epoch!r}")
        if not isinstance(self.offset, int) or not 0 <= self.offset < 10**_OFFSET_DIGITS:
            raise ValueError(f"an offset is an integer from 0, got {self.offset!r}")

    def __str__(self) -> str:
        return f"{self.epoch}-{self.offset:0{_OFFSET_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position ``str(position)`` wrote; :class:`ValueError` for anything else."""
        found = _TOKEN.fullmatch(text) if isinstance(text, str) else None
        if found is None:
            raise ValueError(f"not a position: {text!r:.60}")
        return cls(found[1], int(found[2]))

    @classmethod
    def read(cls, data: bytes) -> Position:
        """The position at the start of ``data`` (as a backend carries it: 25 ASCII bytes)."""
        return cls(data[:_EPOCH_LENGTH].decode("ascii"), int(data[_EPOCH_LENGTH + 1 : len(POSITION_MARK)]))


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    """Keep the last ``size`` publications of a room, each for at most ``ttl`` seconds.

    ``Hub(..., history=HistoryPolicy(size=100, ttl=300))`` keeps it for every
    room; ``history={"chat:*": HistoryPolicy(...)}`` for the rooms matching a
    pattern (``fnmatch``: ``*``, ``?``, ``[...]``; the first match wins).
    """

    size: int
    ttl: float

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"history size is a number of publications from 1, got {self.size!r}")
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int | float) or not self.ttl > 0:
            raise ValueError(f"history ttl is a number of seconds above 0, got {self.ttl!r}")

    @property
    def ttl_ms(self) -> int:
        """``ttl`` in whole milliseconds (at least 1)."""
        return max(1, round(self.ttl * 1000))


History = HistoryPolicy | Mapping[str, HistoryPolicy] | None
"""What ``Hub(history=...)`` takes: one policy for every room, policies by room pattern, or none."""


def policy_for(history: History, room: str) -> HistoryPolicy | None:
    """The policy of ``room`` under ``history``."""
    if history is None or isinstance(history, HistoryPolicy):
        return history
    for pattern, policy in history.items():
        if fnmatch.fnmatchcase(room, pattern):
            return policy
    return None


def check_history(history: object) -> History:
    """``history`` if ``Hub(history=...)`` can take it, else a :class:`TypeError` saying what it takes."""
    if history is None or isinstance(history, HistoryPolicy):
        return history
    if isinstance(history, Mapping) and all(
        isinstance(key, str) and isinstance(value, HistoryPolicy) for key, value in history.items()
    ):
        return dict(history)
    raise TypeError(f"history is a HistoryPolicy, or a mapping of room patterns to HistoryPolicy, got {history!r:.80}")


Missed = Literal["gap", "epoch", "history"]
"""Why a rejoining member could not get back what it missed.

``gap``: publications after its position are no longer kept (too many since,
or too old). ``epoch``: its position is of another history (the stored one was
lost), or no position at all. ``history``: the room keeps no history.
"""


@dataclass(frozen=True, slots=True)
class Joined:
    """What :meth:`Hub.join <pyfly_ws.hub.Hub.join>` did.

    ``position`` is where the member stands once joined: it gets every
    publication after it (``None`` for a room without history). Joined with
    ``since``: ``recovered`` tells whether it got every publication between
    ``since`` and ``position`` (``replayed`` of them), and if not, ``missed``
    why; the application then reloads the member's state its own way.
    Joined without ``since``: ``recovered`` is ``None``.
    """

    room: str
    position: Position | None = None
    recovered: bool | None = None
    missed: Missed | None = None
    replayed: int = 0


@dataclass(slots=True)
class Stored:
    """A backend's answer to reading a room's history after a position.

    ``top`` is the position of the room's last publication (offset 0 before
    the first); ``entries`` the publications kept after the position asked
    about, in order, as ``(offset, envelope)``; ``complete`` whether they are
    all of them (none was trimmed or expired).
    """

    top: Position
    entries: list[tuple[int, bytes]] = field(default_factory=list)
    complete: bool = True


def check_entries(since: int, top: int, entries: list[tuple[int, bytes]]) -> bool:
    """Whether ``entries`` are every offset from ``since + 1`` to ``top``, in order."""
    if len(entries) != top - since:
        return False
    return all(offset == since + 1 + i for i, (offset, _) in enumerate(entries))
