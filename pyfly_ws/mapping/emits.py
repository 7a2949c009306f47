"""``@emits``: what a message-level endpoint sends unasked (pushes, hub publications) and what it asks the client.

Metadata for the AsyncAPI document only: nothing on the message path reads
it, and ``session.emit`` and ``session.request`` work the same with or
without a declaration. The declarations are checked where they are written
(the type) and when the document is generated (where they stand, and that
one type means one payload).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ..exceptions import ConfigurationError
from .messages import RESERVED_TYPES

__all__ = ["EMITS_MARK", "NO_REPLY", "Emitted", "declared_emits", "emits"]

T = TypeVar("T")

EMITS_MARK = "__pyfly_ws_emits__"
"""The attribute holding the declarations of a class (its own) or a handler function."""


class _NoReply:
    """The ``reply`` of a push: the client does not answer it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Final[Any] = _NoReply()
"""``@emits(..., reply=NO_REPLY)`` (the default): a push, not a server request."""


@dataclass(frozen=True, slots=True)
class Emitted:
    """One declared outgoing message: its type, its payload type and, for a server request, its reply's type."""

    type: str
    """The message type (the envelope's ``type``)."""
    payload: Any
    """The annotation of the data sent (``Any``: not described)."""
    reply: Any = NO_REPLY
    """The annotation of the data of the client's reply, for a server request; :data:`NO_REPLY` for a push."""
    description: str | None = None
    """What it means, for the document."""

    @property
    def request(self) -> bool:
        """Whether it is a server request (``session.request``), answered by the client."""
        return self.reply is not NO_REPLY

    def same_message(self, other: Emitted) -> bool:
        """Whether ``other`` declares the same message (type, payload and reply; the description may differ)."""
        return (
            (self.type, self.request) == (other.type, other.request)
            and _same(self.payload, other.payload)
            and (not self.request or _same(self.reply, other.reply))
        )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:
        return False


def emits(
    type: str,
    payload: Any = Any,
    *,
    reply: Any = NO_REPLY,
    description: str | None = None,
) -> Callable[[T], T]:
    """Declare a message this endpoint sends: a push (``session.emit``, a hub publication) or a server request.

    Stack it on a message-level controller class (``@websocket_mapping`` on
    the class), or on one of its ``@message_mapping`` handlers (that handler
    sends it). ``payload`` is the annotation of the data sent (a dataclass, a
    pydantic model, a msgspec Struct, a plain type); with ``reply=T`` the
    message is a server request (``session.request(type, ...)``) whose client
    reply carries ``T``. Only the AsyncAPI document reads the declarations.
    """
    if not isinstance(type, str) or not type:
        raise TypeError(f"@emits takes a non-empty message type string, got {type!r}")
    if type in RESERVED_TYPES:
        raise ConfigurationError(
            f"@emits({type!r}): the type is reserved by the wire format ({', '.join(sorted(RESERVED_TYPES))})"
        )
    if description is not None and not isinstance(description, str):
        raise TypeError(f"@emits({type!r}): description is a string, got {description!r}")
    declared = Emitted(type, payload, reply, description)

    def decorate(target: T) -> T:
        holder: Any = getattr(target, "__func__", target)
        if not callable(holder):
            raise TypeError("@emits decorates a message-level controller class or one of its @message_mapping methods")
        own = declared_emits(holder)
        for other in own:
            if other.type == type and not other.same_message(declared):
                raise ConfigurationError(
                    f"{_name(holder)}: @emits({type!r}) is declared twice, with different payloads"
                )
        try:
            setattr(holder, EMITS_MARK, (*own, declared))
        except (AttributeError, TypeError):
            raise TypeError(f"@emits cannot mark {target!r}") from None
        return target

    return decorate


def declared_emits(obj: Any) -> tuple[Emitted, ...]:
    """The declarations on ``obj``: a class's own (not inherited ones), or a function's."""
    holder: Any = getattr(obj, "__func__", obj)
    own = isinstance(holder, builtins.type)  # a class's own: a subclass does not declare its base's again
    found = vars(holder).get(EMITS_MARK, ()) if own else getattr(holder, EMITS_MARK, ())
    return tuple(found) if isinstance(found, tuple) else ()


def _name(holder: Any) -> str:
    return str(getattr(holder, "__qualname__", None) or repr(holder))
