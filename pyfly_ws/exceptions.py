"""The exceptions pyfly-ws raises, the same on every adapter."""

from __future__ import annotations

from .close_codes import CloseCode

__all__ = [
    "AdapterNotFoundError",
    "AdapterUnavailableError",
    "ConfigurationError",
    "InvalidPayloadError",
    "LimitExceededError",
    "MessageError",
    "MessageTypeError",
    "MissingDependencyError",
    "RequestError",
    "RequestTimeoutError",
    "SessionClosedError",
    "WebSocketDisconnect",
    "WebSocketError",
    "WebSocketStateError",
]


class WebSocketError(Exception):
    """Base class of every pyfly-ws error raised while serving a session."""


class WebSocketDisconnect(WebSocketError):
    """The peer is gone: raised by every ``receive_*`` once the connection ended.

    ``code`` is the close code the peer sent (1005 when it sent none, 1006 when
    the connection dropped without a close frame) and ``reason`` its reason.
    An uncaught ``WebSocketDisconnect`` ends the handler normally.
    """

    def __init__(self, code: int = CloseCode.NO_STATUS, reason: str = "") -> None:
        self.code = int(code)
        self.reason = reason
        super().__init__(code, reason)

    def __str__(self) -> str:
        text = f"WebSocket closed with code {self.code}"
        return f"{text}: {self.reason}" if self.reason else text


class SessionClosedError(WebSocketDisconnect):
    """A send or receive on a session that is already closed.

    A subclass of :class:`WebSocketDisconnect`, so code that already treats a
    vanished peer as the end of the conversation handles this too.
    """

    def __init__(self, operation: str, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.operation = operation

    def __str__(self) -> str:
        return f"cannot {self.operation}: the WebSocket session is closed (code {self.code})"


class WebSocketStateError(WebSocketError, RuntimeError):
    """An operation that the session's current state does not allow, e.g. receiving before accept."""


class ProtocolCloseError(WebSocketError):
    """An error that, left uncaught by the handler, closes the session with ``close_code``."""

    close_code: int = CloseCode.INTERNAL_ERROR


class MessageTypeError(ProtocolCloseError, TypeError):
    """A text message arrived where bytes were expected, or the reverse (close 1003 if uncaught)."""

    close_code = CloseCode.UNSUPPORTED_DATA


class InvalidPayloadError(ProtocolCloseError, ValueError):
    """A message was not valid JSON or UTF-8 (close 1007 if uncaught)."""

    close_code = CloseCode.INVALID_PAYLOAD


class LimitExceededError(ProtocolCloseError):
    """The client broke one of the endpoint's :class:`~pyfly_ws.Limits`; the session is already closed.

    ``limit`` names the field (``max_message_size``, ``rate``...) and
    ``close_code`` is the code the client was sent (1009 for size, 1008 for rate).
    """

    def __init__(self, limit: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.close_code = close_code


class MessageError(WebSocketError):
    """Answer one message of a message-level endpoint with an error frame; the session stays open.

    Raise it from a ``@message_mapping`` handler or a message guard: the client
    gets ``{"type": "error", "id": ..., "code": code, "message": message}``
    (and ``errors`` when given, a list of plain data).
    """

    def __init__(self, code: str, message: str = "", errors: list[object] | None = None) -> None:
        if not isinstance(code, str) or not code:
            raise TypeError(f"an error code is a non-empty string, got {code!r}")
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.errors = errors

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class RequestError(MessageError):
    """The client answered a server request (``session.request``) with an error frame."""


class RequestTimeoutError(MessageError, TimeoutError):
    """The client did not answer a server request (``session.request``) within its timeout."""

    def __init__(self, message: str = "") -> None:
        super().__init__("timeout", message)


class ConfigurationError(WebSocketError, ValueError):
    """Controllers, paths or options that cannot be served as declared."""


class AdapterNotFoundError(ConfigurationError, LookupError):
    """No adapter is installed under the requested name."""


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency of a chosen feature is not installed; the message names the ``pip install`` to run."""


class AdapterUnavailableError(MissingDependencyError):
    """The adapter is known, but the framework it needs is not installed."""
