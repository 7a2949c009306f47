"""Named WebSocket close codes (RFC 6455, section 7.4.1), and the one rule for a close reason's length."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["MAX_REASON_BYTES", "CloseCode", "check_reason", "trim_reason"]


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


MAX_REASON_BYTES = 123
"""The longest close reason, in bytes of UTF-8: a close frame's payload is at most 125 bytes, 2 of them the code."""


def check_reason(reason: str, what: str = "a close reason") -> str:
    """``reason`` if it fits in a close frame, else ``ValueError`` (``what`` names it in the message)."""
    if len(reason.encode("utf-8")) > MAX_REASON_BYTES:
        raise ValueError(f"{what} is at most {MAX_REASON_BYTES} bytes of UTF-8")
    return reason


def trim_reason(text: str) -> str:
    """``text`` cut to fit in a close frame (ending with ``...`` where it was cut)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_REASON_BYTES:
        return text
    return encoded[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."
