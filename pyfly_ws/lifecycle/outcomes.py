"""The close-code contract: what the client sees and what is logged, for every way a session ends.

:data:`OUTCOMES` is the whole table, row by row as the README's "The
close-code contract" shows it (a test compares the two). Each code is written
once: the lifecycle's own codes are the constants below, which
:mod:`~pyfly_ws.lifecycle.run` and the supervisor close with; a limit's code
comes from its rule in :data:`~pyfly_ws.mapping.limits.LIMIT_RULES`, which the
session and the outbox use; a protocol error's from its exception class.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..close_codes import CloseCode
from ..exceptions import InvalidPayloadError, MessageTypeError
from ..mapping.limits import LIMIT_RULES
from ..mapping.messages import PROTOCOL_ERRORS_CLOSE, UNDECODABLE_CLOSE
from ..session.credentials import EXPIRED_CLOSE

__all__ = [
    "DRAINED",
    "DRAINING_STATUS",
    "EXPIRED",
    "NO_TOKEN",
    "OUTCOMES",
    "RAISED",
    "REFUSED",
    "REFUSED_STATUS",
    "RETURNED",
    "UNAUTHENTICATED_STATUS",
    "UNRESOLVED",
    "Outcome",
]

# The lifecycle's codes, as plain module constants: read once per connection, a global is the cheapest lookup.
RETURNED = CloseCode.NORMAL
"""The handler returned (or the peer left and the handler let the disconnect through)."""
RAISED = CloseCode.INTERNAL_ERROR
"""The handler raised after accept."""
REFUSED = CloseCode.POLICY_VIOLATION
"""The close before accept that refuses a handshake: servers answer it with HTTP 403."""
UNRESOLVED = CloseCode.INTERNAL_ERROR
"""The controller cannot be resolved (sent before accept, so the client sees a refusal)."""
DRAINED = CloseCode.GOING_AWAY
"""The application drains."""
REFUSED_STATUS = 403
"""The HTTP status of a refused handshake."""
DRAINING_STATUS = 503
"""The HTTP status of a handshake refused while the application drains, where the server can send one."""
UNAUTHENTICATED_STATUS = 401
"""The HTTP status of a handshake whose token is missing, bad or expired, where the server can send one."""
NO_TOKEN = CloseCode.POLICY_VIOLATION
"""A first-message authenticator got no valid token within its deadline."""
EXPIRED = EXPIRED_CLOSE
"""The session's token expired without a refresh (IANA's ``Unauthorized``)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row of the contract: the README's three columns, and the codes and log level they state."""

    happens: str
    """What happens."""
    client_sees: str
    """What the client sees."""
    logged: str
    """What is logged (logger ``pyfly_ws``)."""
    codes: tuple[int, ...] = ()
    """The close codes the client gets (none for a handshake refusal or when nothing is sent)."""
    status: int | None = None
    """The HTTP status of a refused handshake, when the row refuses one."""
    level: int | None = None
    """The highest level logged (``None``: nothing is logged)."""
    limits: tuple[str, ...] = ()
    """The :class:`~pyfly_ws.Limits` fields the row is about (their rules give :attr:`codes`)."""


def _limit(*names: str) -> tuple[int, ...]:
    return tuple(LIMIT_RULES[name].close_code for name in names)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("handler returns after accept without closing", "close 1000", "nothing", (RETURNED,)),
    Outcome(
        "client disconnects while the handler waits",
        "the handler gets `WebSocketDisconnect`; if uncaught, a normal end",
        "nothing above DEBUG",
        level=logging.DEBUG,
    ),
    Outcome(
        "handler raises after accept",
        "close 1011",
        "WARNING with traceback, naming the endpoint",
        (RAISED,),
        level=logging.WARNING,
    ),
    Outcome(
        "handler raises, returns or closes before accept",
        "handshake refused (HTTP 403)",
        "WARNING with traceback if it raised",
        status=REFUSED_STATUS,
        level=logging.WARNING,
    ),
    Outcome(
        "`receive_text` gets bytes, or `receive_bytes` gets text, uncaught",
        "close 1003",
        "INFO",
        (MessageTypeError.close_code,),
        level=logging.INFO,
    ),
    Outcome(
        "`receive_json` gets invalid JSON or UTF-8, uncaught",
        "close 1007",
        "INFO",
        (InvalidPayloadError.close_code,),
        level=logging.INFO,
    ),
    Outcome(
        "message over `max_message_size`",
        "close 1009",
        "INFO, naming the limit",
        _limit("max_message_size"),
        level=logging.INFO,
        limits=("max_message_size",),
    ),
    Outcome(
        "messages faster than `rate` allows",
        "close 1008",
        "INFO, naming the limit",
        _limit("rate"),
        level=logging.INFO,
        limits=("rate",),
    ),
    Outcome(
        "no message for `idle_timeout` / none within `first_message_timeout`",
        "close 1001 / 1008, with a reason",
        "INFO, naming the limit",
        _limit("idle_timeout", "first_message_timeout"),
        level=logging.INFO,
        limits=("idle_timeout", "first_message_timeout"),
    ),
    Outcome(
        'the outgoing queue overflows (`overflow="close"`, or `block` past `send_timeout`),'
        " or a write stalls past `send_timeout`",
        "close 1013",
        "INFO, naming the limit",
        _limit("send_queue"),
        level=logging.INFO,
        limits=("send_queue", "overflow", "send_timeout"),
    ),
    Outcome(
        "the application drains (lifespan shutdown or `registry.drain()`)",
        "close 1001 `server shutting down`; new handshakes refused (HTTP 503 where the server can send it, else 403)",
        "INFO",
        (DRAINED,),
        status=DRAINING_STATUS,
        level=logging.INFO,
    ),
    Outcome(
        "the authenticator finds no token, or a bad or expired one",
        "handshake refused (HTTP 401 where the server can send it, else 403; a verifier's `Reject` gives its own)",
        "INFO, without the token",
        status=UNAUTHENTICATED_STATUS,
        level=logging.INFO,
    ),
    Outcome(
        "no valid token in the first message within a `MessageToken`'s deadline",
        "close 1008, with a reason",
        "INFO, without the token",
        (NO_TOKEN,),
        level=logging.INFO,
    ),
    Outcome(
        "the session's token expires without an `auth.refresh`",
        "close 3000 `token expired` (warned with `auth.expiring` first)",
        "INFO",
        (EXPIRED,),
        level=logging.INFO,
    ),
    Outcome(
        "`hub.disconnect_user(identity, code=..., reason=...)`",
        "close with that code and reason, on every process",
        "INFO, with the count",
        level=logging.INFO,
    ),
    Outcome(
        "path parameter of the wrong type, or an unknown path",
        "handshake refused (HTTP 403)",
        "DEBUG",
        status=REFUSED_STATUS,
        level=logging.DEBUG,
    ),
    Outcome(
        "controller cannot be resolved",
        "handshake refused (HTTP 403)",
        "ERROR with traceback",
        status=REFUSED_STATUS,
        level=logging.ERROR,
    ),
    Outcome(
        "send after close, from the session's own handler",
        "`SessionClosedError`, a `WebSocketDisconnect` with a clear message (from another task the message is dropped)",
        "—",
    ),
    Outcome(
        "a message-level endpoint gets a frame it cannot decode, that is no envelope, of an unknown type,"
        " or whose data fails validation",
        "an error frame (`invalid_frame`, `invalid_envelope`, `unknown_type`, `invalid_payload` with the field"
        " errors); the session stays open",
        "nothing",
    ),
    Outcome(
        "a message handler or guard raises `MessageError`, or a guard refuses",
        "an error frame with its code (`forbidden` for a refusal); the session stays open",
        "nothing",
    ),
    Outcome(
        "a message handler raises any other exception",
        "an `internal_error` frame without exception text; the session stays open",
        "WARNING with traceback, naming the endpoint, the type and the id",
        level=logging.WARNING,
    ),
    Outcome(
        "`max_protocol_errors` protocol errors in a row (default 10) on a message-level endpoint",
        "close 1008 `too many protocol errors` (1007 when the last frame could not be decoded)",
        "INFO",
        (PROTOCOL_ERRORS_CLOSE, UNDECODABLE_CLOSE),
        level=logging.INFO,
    ),
    Outcome(
        "`on_disconnect` raises",
        "nothing changes for the client",
        "WARNING with traceback",
        level=logging.WARNING,
    ),
)
"""The close-code contract, in the README's order."""
