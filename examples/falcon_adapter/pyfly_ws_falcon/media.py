"""Pass-through media handlers: how ``FalconConnection.receive`` gets "text or bytes, whichever arrives".

Falcon's public ``WebSocket`` API receives a text frame (``receive_text``) or
a binary frame (``receive_data``), and each raises, with the message already
consumed, when the other kind arrives. Only ``receive_media`` takes either
kind: it hands the payload to the app's TEXT or BINARY media handler
(``app.ws_options.media_handlers``, a documented extension point).

:func:`install` wraps the app's two handlers. While a :class:`FalconConnection`
receives (a context variable marks it, so other tasks are unaffected), the
wrappers return the payload untouched inside a :class:`RawMessage`; for every
other caller, e.g. the application's own ``on_websocket`` resources, they
delegate to the handler they wrap, so ``receive_media``/``send_media`` keep
working as configured.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import cast

from falcon import WebSocketPayloadType
from falcon.asgi import WebSocketOptions
from falcon.media import BinaryBaseHandlerWS, TextBaseHandlerWS

__all__ = ["RawBinaryHandler", "RawMessage", "RawTextHandler", "install", "raw_payloads"]

raw_payloads: ContextVar[bool] = ContextVar("pyfly_ws_falcon.raw_payloads", default=False)
"""Set while a ``FalconConnection`` awaits ``receive_media()``: the handlers then pass payloads through."""


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A payload exactly as it arrived: ``str`` from a text frame, ``bytes`` from a binary one."""

    data: str | bytes


class RawTextHandler(TextBaseHandlerWS):
    """The app's TEXT handler, made to pass payloads through while pyfly-ws receives."""

    def __init__(self, inner: TextBaseHandlerWS) -> None:
        self.inner = inner

    def serialize(self, media: object) -> str:
        return self.inner.serialize(media)

    def deserialize(self, payload: str) -> object:
        return RawMessage(payload) if raw_payloads.get() else self.inner.deserialize(payload)


class RawBinaryHandler(BinaryBaseHandlerWS):
    """The app's BINARY handler, made to pass payloads through while pyfly-ws receives."""

    def __init__(self, inner: BinaryBaseHandlerWS) -> None:
        self.inner = inner

    def serialize(self, media: object) -> bytes | bytearray | memoryview:
        return self.inner.serialize(media)

    def deserialize(self, payload: bytes) -> object:
        return RawMessage(payload) if raw_payloads.get() else self.inner.deserialize(payload)


def install(options: WebSocketOptions) -> None:
    """Wrap the TEXT and BINARY handlers of ``options`` (an app's ``ws_options``), once.

    Falcon binds the handlers when it creates each ``WebSocket``, so this must
    run before the app serves its first connection.
    """
    handlers = options.media_handlers
    text = handlers[WebSocketPayloadType.TEXT]
    if not isinstance(text, RawTextHandler):
        handlers[WebSocketPayloadType.TEXT] = RawTextHandler(cast(TextBaseHandlerWS, text))
    binary = handlers[WebSocketPayloadType.BINARY]
    if not isinstance(binary, RawBinaryHandler):
        handlers[WebSocketPayloadType.BINARY] = RawBinaryHandler(cast(BinaryBaseHandlerWS, binary))
