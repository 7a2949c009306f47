"""``Limits``: what one session may cost the server, set per application, controller and endpoint.

Every field has a documented default; a level sets only the fields it names
and inherits the others (application, then controller, then endpoint: the most
specific level wins). ``None`` switches a limit off.

| field                   | default     | when exceeded                                   |
| ----------------------- | ----------- | ----------------------------------------------- |
| ``max_message_size``    | 1 MiB       | close 1009 (bytes; UTF-8 bytes for text)        |
| ``rate`` / ``burst``    | off         | close 1008 (token bucket, messages per second)  |
| ``idle_timeout``        | off         | close 1001 (seconds without a client message)   |
| ``first_message_timeout`` | off       | close 1008 (seconds from accept to a message)   |
| ``send_queue``          | 64          | ``overflow`` policy (messages waiting to go out) |
| ``send_timeout``        | 30 s        | close 1013 (a write or a blocked send waits longer) |
| ``overflow``            | ``"block"`` | ``block``, ``drop_oldest`` or ``close`` (1013)  |

:data:`LIMIT_RULES` holds the same facts as data, with where each limit is
enforced; the session, the outbox and the supervisor take their close codes from it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

from ..close_codes import CloseCode

__all__ = ["DEFAULT_LIMITS", "LIMIT_RULES", "LimitRule", "Limits", "Overflow", "SessionStart"]

Overflow = Literal["block", "drop_oldest", "close"]
"""What happens to a send when the session's outgoing queue is full."""

_UNSET: Any = object()


class LimitRule(NamedTuple):
    """One field of :class:`Limits`: its default, what breaking it costs the client, and where that is enforced."""

    default: Any
    """The value of a level that does not set the field (``None``: the limit is off)."""
    close_code: int
    """The code a session is closed with when the client breaks the limit."""
    enforced_by: str
    """Where the limit is enforced: ``module:qualified name`` of the code that closes for it."""


_SESSION = "pyfly_ws.session.session:WebSocketSession._inspect"  # per message, as it is received
_SUPERVISOR = "pyfly_ws.lifecycle.supervisor:Supervisor.due"  # asked by the timekeeper, never per message
_OUTBOX = "pyfly_ws.session.outbox:Outbox._make_room"  # when a send finds the queue full

LIMIT_RULES: Mapping[str, LimitRule] = MappingProxyType(
    {
        "max_message_size": LimitRule(1024 * 1024, CloseCode.MESSAGE_TOO_BIG, _SESSION),
        "rate": LimitRule(None, CloseCode.POLICY_VIOLATION, _SESSION),
        "burst": LimitRule(None, CloseCode.POLICY_VIOLATION, _SESSION),  # the rate's bucket
        "idle_timeout": LimitRule(None, CloseCode.GOING_AWAY, _SUPERVISOR),
        "first_message_timeout": LimitRule(None, CloseCode.POLICY_VIOLATION, _SUPERVISOR),
        "send_queue": LimitRule(64, CloseCode.TRY_AGAIN_LATER, _OUTBOX),  # and Outbox.post, for a post
        "send_timeout": LimitRule(30.0, CloseCode.TRY_AGAIN_LATER, _SUPERVISOR),  # and _OUTBOX, for a blocked send
        "overflow": LimitRule("block", CloseCode.TRY_AGAIN_LATER, _OUTBOX),
    }
)
"""Every field of :class:`Limits`, in order, with its rule."""

_DEFAULTS: dict[str, Any] = {name: rule.default for name, rule in LIMIT_RULES.items()}


class SessionStart(NamedTuple):
    """What every session under one :class:`Limits` starts from, worked out once rather than per session."""

    timed: bool
    """Whether a message's time is needed (``rate``, ``idle_timeout`` or ``first_message_timeout`` is set)."""
    big: int
    """Messages longer than this many characters or bytes may be over ``max_message_size``: they are measured."""
    tokens: float
    """The rate limit's token bucket, full."""


class Limits:
    """Resource limits of a session; fields not given inherit from the enclosing level."""

    __slots__ = (*_DEFAULTS, "_given", "shortest_time_limit", "session_start")

    max_message_size: int | None
    """Largest message accepted from the client, in bytes (text counts its UTF-8 bytes): over it, close 1009.

    Enforced as each message is received (``WebSocketSession._inspect``); see :data:`LIMIT_RULES`."""
    rate: float | None
    """Messages per second a client may send on average (a token bucket): over it, close 1008.

    Enforced as each message is received (``WebSocketSession._inspect``); see :data:`LIMIT_RULES`."""
    burst: int | None
    """Messages a client may send at once before ``rate`` applies; defaults to ``max(1, ceil(rate))``.

    The size of ``rate``'s bucket, enforced with it (``WebSocketSession._inspect``); see :data:`LIMIT_RULES`."""
    idle_timeout: float | None
    """Seconds without any message from the client before the session is closed with 1001.

    Enforced by the timekeeper (``Supervisor.due``); see :data:`LIMIT_RULES`."""
    first_message_timeout: float | None
    """Seconds from accept to the client's first message before the session is closed with 1008.

    Enforced by the timekeeper (``Supervisor.due``); see :data:`LIMIT_RULES`."""
    send_queue: int
    """Messages that may wait to be written while the client reads slowly; a full queue applies ``overflow``.

    Enforced when a message is queued (``Outbox._make_room``, ``Outbox.post``); see :data:`LIMIT_RULES`."""
    send_timeout: float | None
    """Seconds a write may take, and a blocked send may wait for room, before the session is closed with 1013.

    A write is timed by the timekeeper (``Supervisor.due``), a blocked send by ``Outbox._make_room``;
    see :data:`LIMIT_RULES`."""
    overflow: Overflow
    """When the queue is full: ``block`` the sender (up to ``send_timeout``), ``drop_oldest``, or ``close`` (1013).

    Applied by ``Outbox._make_room`` and ``Outbox.post``; see :data:`LIMIT_RULES`."""

    shortest_time_limit: float
    """The shortest of ``idle_timeout``, ``first_message_timeout`` and ``send_timeout``; ``inf`` if none is set."""
    session_start: SessionStart
    """What every session under these limits starts from (read once per connection, by the session)."""

    _given: frozenset[str]

    def __init__(
        self,
        *,
        max_message_size: int | None = _UNSET,
        rate: float | None = _UNSET,
        burst: int | None = _UNSET,
        idle_timeout: float | None = _UNSET,
        first_message_timeout: float | None = _UNSET,
        send_queue: int = _UNSET,
        send_timeout: float | None = _UNSET,
        overflow: Overflow = _UNSET,
    ) -> None:
        given = {
            name: value
            for name, value in (
                ("max_message_size", max_message_size),
                ("rate", rate),
                ("burst", burst),
                ("idle_timeout", idle_timeout),
                ("first_message_timeout", first_message_timeout),
                ("send_queue", send_queue),
                ("send_timeout", send_timeout),
                ("overflow", overflow),
            )
            if value is not _UNSET
        }
        for name, value in given.items():
            _check(name, value)
        self._set({**_DEFAULTS, **given}, frozenset(given))

    def _set(self, values: dict[str, Any], given: frozenset[str]) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_given", given)
        timed = (values["idle_timeout"], values["first_message_timeout"], values["send_timeout"])
        object.__setattr__(self, "shortest_time_limit", min((t for t in timed if t is not None), default=math.inf))
        # What every session under these limits starts from, worked out once rather than per session:
        # whether a message's time is needed, the length above which a message is measured, the bucket.
        size = values["max_message_size"]
        start = SessionStart(
            values["rate"] is not None or timed[0] is not None or timed[1] is not None,
            sys.maxsize if size is None else size // 4,
            self.bucket_size if values["rate"] is not None else 0.0,
        )
        object.__setattr__(self, "session_start", start)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Limits are immutable; make a new one")

    def then(self, inner: Limits) -> Limits:
        """These (outer) limits refined by ``inner``: the fields ``inner`` sets replace these."""
        if not inner._given:
            return self
        merged = Limits.__new__(Limits)
        values = {name: getattr(inner if name in inner._given else self, name) for name in _DEFAULTS}
        merged._set(values, self._given | inner._given)
        return merged

    @property
    def given(self) -> frozenset[str]:
        """The names of the fields set explicitly at this level or above."""
        return self._given

    @property
    def bucket_size(self) -> float:
        """The token bucket's capacity: ``burst``, or ``max(1, ceil(rate))``."""
        if self.burst is not None:
            return float(self.burst)
        return float(max(1, math.ceil(self.rate or 1)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits):
            return NotImplemented
        return self._given == other._given and all(getattr(self, n) == getattr(other, n) for n in _DEFAULTS)

    def __hash__(self) -> int:
        return hash((self._given, *(getattr(self, name) for name in _DEFAULTS)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _DEFAULTS if name in self._given)
        return f"Limits({fields})"


def _check(name: str, value: Any) -> None:
    if name == "overflow":
        if value not in get_args(Overflow):
            raise ValueError(f"overflow must be one of {', '.join(get_args(Overflow))}; got {value!r}")
        return
    if value is None:
        if name == "send_queue":
            raise ValueError("send_queue must be a positive number of messages (a queue cannot be unbounded)")
        return
    integer = name in ("max_message_size", "burst", "send_queue")
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        kind = "an int" if integer else "a number of seconds" if "timeout" in name else "a number"
        raise TypeError(f"{name} must be {kind} or None, got {value!r}")
    if not value > 0 or (not integer and not math.isfinite(value)):
        raise ValueError(f"{name} must be positive, got {value!r}")


DEFAULT_LIMITS = Limits()
"""The limits of an endpoint nobody configured: see the table above."""
