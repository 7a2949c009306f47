"""Named WebSocket close codes (RFC 6455, section 7.4.1)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CloseCode"]


class CloseCode(IntEnum):
    """The close codes pyfly-ws sends, by name."""

    NORMAL = 1000
    """The purpose of the connection was fulfilled."""
    GOING_AWAY = 1001
    """The server is going down, or the peer navigated away."""
    UNSUPPORTED_DATA = 1003
    """A text frame arrived where bytes were expected, or the reverse."""
    NO_STATUS = 1005
    """The peer closed without a status code (never sent on the wire)."""
    ABNORMAL = 1006
    """The connection dropped without a close frame (never sent on the wire)."""
    INVALID_PAYLOAD = 1007
    """The payload was not valid for its type (bad UTF-8, bad JSON)."""
    POLICY_VIOLATION = 1008
    """The peer broke a rule of the endpoint (a rate limit, a guard)."""
    MESSAGE_TOO_BIG = 1009
    """A message was larger than the endpoint accepts."""
    INTERNAL_ERROR = 1011
    """The handler failed."""
    TRY_AGAIN_LATER = 1013
    """The server is overloaded or the client cannot keep up."""
