"""The mapping decorators: they attach metadata and return the object unchanged.

The attribute names are the ones PyFly uses, so PyFly controllers are found
unchanged: ``__pyfly_stereotype__`` and ``__pyfly_request_mapping__`` on the
class, ``__pyfly_ws_mapping__`` on each WebSocket method.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast, overload

from .auth import Authenticator
from .limits import Limits
from .messages import Codec, Envelope, MessageOptions
from .policy import Policy

__all__ = [
    "CONTROLLER_STEREOTYPES",
    "StereotypeDecorator",
    "controller",
    "marked_members",
    "request_mapping",
    "rest_controller",
    "websocket_mapping",
]

T = TypeVar("T", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

CONTROLLER_STEREOTYPES = frozenset({"controller", "rest_controller"})
"""The stereotypes whose classes are searched for WebSocket endpoints."""


def _check_path(path: object, decorator: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"@{decorator} takes a path string, got {type(path).__name__}")
    return path


def request_mapping(path: str) -> Callable[[T], T]:
    """Set the base path that every mapped method of the class is served under."""
    base = _check_path(path, "request_mapping")

    def decorate(cls: T) -> T:
        if not isinstance(cls, type):
            raise TypeError("@request_mapping decorates a class")
        cls.__pyfly_request_mapping__ = base  # type: ignore[attr-defined]
        return cls

    return decorate


@overload
def websocket_mapping(path: F) -> F: ...
@overload
def websocket_mapping(
    path: str = "",
    *,
    guards: Iterable[Any] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    authenticator: Authenticator | None = None,
    codec: Codec | None = None,
    envelope: Envelope | None = None,
    concurrency: int | None = None,
    backlog: int | None = None,
    max_protocol_errors: int | None = None,
) -> Callable[[F], F]: ...
def websocket_mapping(
    path: str | F = "",
    *,
    guards: Iterable[Any] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    authenticator: Authenticator | None = None,
    codec: Codec | None = None,
    envelope: Envelope | None = None,
    concurrency: int | None = None,
    backlog: int | None = None,
    max_protocol_errors: int | None = None,
) -> F | Callable[[F], F]:
    """Mark a controller method, or a whole controller class, as a WebSocket endpoint at base path + ``path``.

    On a method, the method takes one argument, the
    :class:`~pyfly_ws.WebSocketSession`, and owns the whole conversation:
    accept, messages, close. On a class, the class is one message-level
    endpoint: frames are dispatched by type to its ``@message_mapping``
    methods, and ``codec``, ``envelope``, ``concurrency``, ``backlog`` and
    ``max_protocol_errors`` set its wire format and handling (see
    :class:`~pyfly_ws.MessageOptions`). Usable bare (``@websocket_mapping``)
    or called (``@websocket_mapping("/chat")``). ``guards`` run before
    accept, and ``allowed_origins`` lists the browser origins allowed besides
    the server's own (see :mod:`pyfly_ws.mapping.guards`); ``limits`` refine
    the controller's and application's (see :class:`~pyfly_ws.Limits`), and
    ``authenticator`` replaces theirs (see :mod:`pyfly_ws.auth`).
    """
    if callable(path):
        return websocket_mapping("")(path)
    route = _check_path(path, "websocket_mapping")
    policy = Policy.of(guards, allowed_origins, limits, authenticator)
    mapping: dict[str, Any] = {"path": route} if policy == Policy() else {"path": route, "policy": policy}
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("codec", codec),
            ("envelope", envelope),
            ("concurrency", concurrency),
            ("backlog", backlog),
            ("max_protocol_errors", max_protocol_errors),
        )
        if value is not None
    }
    options = dataclasses.replace(MessageOptions(), **given)  # checked now, where the mistake is

    def decorate(func: F) -> F:
        if isinstance(func, type):
            func.__pyfly_ws_mapping__ = {**mapping, "messages": options}  # type: ignore[attr-defined]
            return func
        target: Any = getattr(func, "__func__", func)
        if not callable(target):
            raise TypeError("@websocket_mapping decorates a method or a controller class")
        if given:
            raise TypeError(f"{', '.join(given)}: options of a message-level endpoint, given to a method")
        target.__pyfly_ws_mapping__ = mapping
        return func

    return decorate


def marked_members(cls: type, mark: str) -> Iterator[tuple[str, Any, Any, Any]]:
    """``(name, member, function, mark's value)`` for each member of ``cls`` whose function a decorator marked.

    Inherited members included; a subclass that overrides a member without the mark hides the inherited one.
    """
    seen: set[str] = set()
    for klass in cls.__mro__:
        for name, member in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            func = getattr(member, "__func__", member)
            value = getattr(func, mark, None)
            if value is not None:
                yield name, member, func, value


class StereotypeDecorator(Protocol):
    """The type of ``@controller`` and ``@rest_controller``: usable bare or with a bean name."""

    @overload
    def __call__(self, cls: T, /) -> T: ...
    @overload
    def __call__(self, *, name: str | None = None) -> Callable[[T], T]: ...


def _stereotype(stereotype: str) -> StereotypeDecorator:
    def decorator(cls: T | None = None, /, *, name: str | None = None) -> T | Callable[[T], T]:
        def mark(target: T) -> T:
            if not isinstance(target, type):
                raise TypeError(f"@{stereotype} decorates a class")
            target.__pyfly_stereotype__ = stereotype  # type: ignore[attr-defined]
            if name is not None:
                target.__pyfly_bean_name__ = name  # type: ignore[attr-defined]
            return target

        return mark if cls is None else mark(cls)

    decorator.__name__ = decorator.__qualname__ = stereotype
    decorator.__doc__ = (
        f"Mark a class as a {stereotype.replace('_', ' ')} whose mapped methods become endpoints.\n\n"
        f'Usable bare (``@{stereotype}``) or with a bean name (``@{stereotype}(name="chat")``).'
    )
    return cast(StereotypeDecorator, decorator)


controller = _stereotype("controller")
rest_controller = _stereotype("rest_controller")
