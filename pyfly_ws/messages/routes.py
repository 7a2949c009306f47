"""From a controller class to its message routes: each ``@message_mapping`` method, read and checked once.

A :class:`Route` knows how to call its method: which parameter takes the
session, which the :class:`~pyfly_ws.messages.frames.Message`, which the
validated payload (and the decoder that validates it), and how the return
value becomes the reply's data.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError
from ..mapping.decorators import marked_members
from ..mapping.messages import Message, MessageGuard
from ..session.session import WebSocketSession
from .encoding import reply_encoder
from .payloads import Decoder, payload_decoder

__all__ = ["HOOKS", "Route", "hook_names", "routes_of"]

HOOKS = ("on_connect", "on_message", "on_disconnect")
"""The hooks of a message-level controller, each optional, sync or async."""

SESSION, MESSAGE, PAYLOAD = "session", "message", "payload"


@dataclass(frozen=True, slots=True)
class Route:
    """One mapped message type of a controller."""

    type: str
    """The message type."""
    method: str
    """The method's name."""
    where: str
    """``Controller.method``, for errors and logs."""
    layout: tuple[str, ...]
    """What each parameter after ``self`` takes: ``session``, ``message`` or ``payload``."""
    decode: Decoder | None
    """Validates the envelope's data into the payload argument (``None``: the method takes no payload)."""
    encode: Callable[[Any], Any]
    """Turns the return value into the reply's data."""
    guards: tuple[MessageGuard, ...]
    """Run with the session and the message before the method."""
    is_async: bool
    """Whether the method is a coroutine function."""
    payload_type: Any
    """The payload annotation (``inspect.Parameter.empty`` when there is none): for documents."""
    reply_type: Any
    """The return annotation (``inspect.Parameter.empty`` when there is none): for documents."""

    @property
    def wants_message(self) -> bool:
        """Whether a :class:`Message` is built for the call (a parameter takes it, or a guard reads it)."""
        return MESSAGE in self.layout or bool(self.guards)


def routes_of(cls: type) -> dict[str, Route]:
    """Every ``@message_mapping`` method of ``cls`` (inherited ones included), by message type."""
    routes: dict[str, Route] = {}
    for name, value, func, declared in marked_members(cls, "__pyfly_ws_message__"):
        kind, guards = declared
        where = f"{cls.__qualname__}.{name}"
        if isinstance(value, staticmethod | classmethod):
            raise ConfigurationError(f"{where} is mapped to message type {kind!r}: make it a plain method")
        if getattr(func, "__pyfly_ws_mapping__", None) is not None:
            raise ConfigurationError(f"{where} has both @websocket_mapping and @message_mapping: choose one")
        other = routes.get(kind)
        if other is not None:
            raise ConfigurationError(f"message type {kind!r} is mapped twice: by {other.where} and {where}")
        routes[kind] = _route(kind, name, func, guards, where)
    return routes


def hook_names(cls: type) -> dict[str, bool]:
    """The hooks ``cls`` defines, each with whether it is async."""
    found: dict[str, bool] = {}
    for name in HOOKS:
        hook = getattr(cls, name, None)
        if hook is None:
            continue
        if not callable(hook):
            raise ConfigurationError(f"{cls.__qualname__}.{name} must be a method, got {hook!r}")
        found[name] = inspect.iscoroutinefunction(hook)
    return found


def _route(kind: str, name: str, func: Any, guards: tuple[MessageGuard, ...], where: str) -> Route:
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func)
    except (NameError, TypeError) as exc:
        raise ConfigurationError(f"{where}: cannot read its annotations ({exc})") from None
    params = list(signature.parameters.values())[1:]  # after self
    layout: list[str] = []
    payload_type: Any = inspect.Parameter.empty
    payload_param: str | None = None
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.KEYWORD_ONLY):
            raise ConfigurationError(
                f"{where}: parameter {param.name!r} must be positional; a message handler takes the session, "
                "the message and the payload"
            )
        annotation = hints.get(param.name, inspect.Parameter.empty)
        if isinstance(annotation, type) and issubclass(annotation, WebSocketSession):
            layout.append(SESSION)
        elif annotation is Message:
            layout.append(MESSAGE)
        elif payload_param is not None:
            raise ConfigurationError(
                f"{where}: two payload parameters, {payload_param!r} and {param.name!r}; annotate the session "
                "parameter with WebSocketSession and the message parameter with Message"
            )
        else:
            layout.append(PAYLOAD)
            payload_param, payload_type = param.name, annotation
    decode = payload_decoder(payload_type, where) if payload_param is not None else None
    reply_type = hints.get("return", inspect.Parameter.empty)
    return Route(
        type=kind,
        method=name,
        where=where,
        layout=tuple(layout),
        decode=decode,
        encode=reply_encoder(reply_type, where),
        guards=guards,
        is_async=inspect.iscoroutinefunction(func),
        payload_type=payload_type,
        reply_type=reply_type,
    )
