"""What a message-level endpoint declares: ``@message_mapping``, its wire format and its options.

Metadata only, like the rest of the mapping layer: the dispatcher in
:mod:`pyfly_ws.messages` reads it. The :class:`Codec` contract lives here so
that ``@websocket_mapping(..., codec=...)`` can name it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..close_codes import CloseCode
from .principal import Principal

__all__ = [
    "ERROR_CODES",
    "PROTOCOL_ERRORS_CLOSE",
    "UNDECODABLE_CLOSE",
    "Codec",
    "CodecError",
    "Envelope",
    "Message",
    "MessageGuard",
    "MessageId",
    "MessageOptions",
    "RESERVED_TYPES",
    "message_mapping",
]

F = TypeVar("F", bound=Callable[..., Any])

MessageGuard = Callable[..., Any]
"""``guard(session, message)``, sync or async: returns (``False`` refuses: ``forbidden``) or raises ``MessageError``."""


class CodecError(ValueError):
    """A frame the codec cannot decode (invalid JSON, invalid MessagePack, a text frame for a binary codec)."""


@runtime_checkable
class Codec(Protocol):
    """How frames become data and back: JSON text frames by default, MessagePack binary frames as an extra."""

    @property
    def binary(self) -> bool:
        """``True``: frames are binary (``send_bytes``); ``False``: text."""
        ...

    @property
    def name(self) -> str:
        """A short name, such as ``json`` or ``msgpack``."""
        ...

    def decode(self, frame: str | bytes) -> Any:
        """The data in ``frame``; raises :class:`CodecError` when it cannot be decoded."""
        ...

    def encode(self, data: Any) -> str | bytes:
        """``data`` as one frame (``str`` for a text codec, ``bytes`` for a binary one)."""
        ...


MessageId = str | int
"""A message id: a string or an integer, echoed as given."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message from the client: its type, its id (``None``: no reply asked) and its data.

    A handler or guard gets it through a parameter annotated ``Message``;
    ``data`` is the validated payload for a mapped type, and the data as
    decoded for ``on_message``.
    """

    type: str
    id: MessageId | None
    data: Any


@dataclass(frozen=True, slots=True)
class Envelope:
    """The field names of a message frame; the defaults are the documented wire format."""

    type: str = "type"
    id: str = "id"
    data: str = "data"
    code: str = "code"
    message: str = "message"
    errors: str = "errors"
    traceparent: str = "traceparent"
    """The W3C trace context a message may carry (read only when the application traces, see ``Tracing``)."""
    tracestate: str = "tracestate"
    position: str = "position"
    """Where a push from a room with history carries its place in the room (see ``HistoryPolicy``)."""

    def __post_init__(self) -> None:
        names = [getattr(self, f.name) for f in fields(self)]
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"an envelope field name is a non-empty string, got {name!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"the envelope's field names must differ from each other, got {names}")


PROTOCOL_ERRORS_CLOSE = CloseCode.POLICY_VIOLATION
"""The close code after ``max_protocol_errors`` consecutive protocol errors."""
UNDECODABLE_CLOSE = CloseCode.INVALID_PAYLOAD
"""The close code when the last of those errors was a frame the codec could not decode."""

ERROR_CODES: dict[str, tuple[str, bool]] = {
    "invalid_frame": ("the frame could not be decoded (not JSON, not MessagePack)", True),
    "invalid_envelope": (
        "the frame is not an object, its type is missing or not a string, or its id is neither a string nor an integer",
        True,
    ),
    "unknown_type": ("no handler for the message type", True),
    "invalid_payload": ("the data failed validation; `errors` lists each field's location, message and kind", True),
    "forbidden": ("a message guard refused the message, or a refresh named another identity", False),
    "unauthorized": ("an `auth.refresh` carried a missing, bad or expired token", False),
    "internal_error": ("the handler raised; details are logged, never sent", False),
}
"""The error codes the dispatcher sends: ``code -> (meaning, whether it counts as a protocol error)``.

A handler or guard adds its own with :class:`~pyfly_ws.MessageError`.
"""

RESERVED_TYPES = frozenset({"reply", "error", "auth", "auth.refresh"})
"""Message types the wire format itself uses (answers, and signing in): no ``@message_mapping`` may take them."""


@dataclass(frozen=True, slots=True)
class MessageOptions:
    """How a message-level endpoint reads, handles and answers its messages."""

    codec: Codec | None = None
    """The wire codec; ``None``: JSON in text frames."""
    envelope: Envelope = Envelope()
    """The envelope's field names."""
    concurrency: int = 1
    """How many messages of one session are handled at once; 1 keeps arrival order."""
    backlog: int = 16
    """Messages received and waiting for a handler (with ``concurrency`` > 1, or while a server request is
    pending); past it the session stops reading until a handler finishes."""
    max_protocol_errors: int = 10
    """Consecutive protocol errors after which the session closes (1008, or 1007 for undecodable frames)."""

    def __post_init__(self) -> None:
        if self.codec is not None and not isinstance(self.codec, Codec):
            raise TypeError(f"codec must have binary, name, decode() and encode(), got {self.codec!r}")
        if not isinstance(self.envelope, Envelope):
            raise TypeError(f"envelope must be a pyfly_ws.Envelope, got {self.envelope!r}")
        for name in ("concurrency", "backlog", "max_protocol_errors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


Requirement = Callable[[Principal], bool] | str | Iterable[str]
"""What ``@message_mapping(requires=...)`` takes: a predicate over the principal, or the scopes it must have."""


def message_mapping(
    type: str, *, guards: Iterable[MessageGuard] | None = None, requires: Requirement | None = None
) -> Callable[[F], F]:
    """Handle the messages of ``type`` with this method of a message-level controller.

    The method (sync or async) takes, in any order, a parameter annotated
    :class:`~pyfly_ws.WebSocketSession`, one annotated :class:`~pyfly_ws.Message`
    and one payload parameter whose annotation (a dataclass, a pydantic model, a
    msgspec Struct, a plain type, or ``None``) validates the envelope's ``data``.
    Its return value is the reply to a message that carries an ``id``.
    ``guards`` run after validation with the session and the message.
    ``requires`` (a predicate over the session's :class:`~pyfly_ws.Principal`,
    or the scopes it must have, ``requires={"chat:write"}``) refuses the
    message with ``forbidden`` unless the session is signed in and meets it;
    it runs before the guards, and the session stays open.
    """
    if not isinstance(type, str) or not type:
        raise TypeError(f"@message_mapping takes a non-empty message type string, got {type!r}")
    if type in RESERVED_TYPES:
        raise ValueError(f"message type {type!r} is reserved by the wire format ({', '.join(sorted(RESERVED_TYPES))})")
    guard_list = tuple(guards or ())
    for guard in guard_list:
        if not callable(guard):
            raise TypeError(f"a message guard must be callable, got {guard!r}")
    if requires is not None:
        guard_list = (_requirement(requires), *guard_list)

    def decorate(func: F) -> F:
        target: Any = getattr(func, "__func__", func)
        if not callable(target) or isinstance(target, builtins.type):
            raise TypeError("@message_mapping decorates a method")
        target.__pyfly_ws_message__ = (type, guard_list)
        return func

    return decorate


def _requirement(requires: Requirement) -> MessageGuard:
    """A message guard that passes a session whose principal meets ``requires``."""
    if callable(requires):
        test = requires
        name = getattr(requires, "__qualname__", None) or repr(requires)
    else:
        needed = frozenset([requires] if isinstance(requires, str) else requires)
        if not needed or not all(isinstance(scope, str) and scope for scope in needed):
            raise TypeError(f"requires is a predicate over the principal, or scope strings; got {requires!r}")

        def test(principal: Principal) -> bool:
            return needed <= principal.scopes

        name = " ".join(sorted(needed))

    def required(session: Any, message: Any) -> bool:
        principal = session.principal
        return principal is not None and bool(test(principal))

    required.__qualname__ = f"requires({name})"
    return required
