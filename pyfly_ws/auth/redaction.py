"""Secrets in URLs, blanked out of log lines: the query parameters a :class:`~pyfly_ws.auth.QueryToken` reads.

Servers log the requested path with its query string (uvicorn's
``"WebSocket /ws?token=..." [accepted]``). Once an application with such an
endpoint is built, one filter on the loggers pyfly-ws and the servers write to
replaces each secret parameter's value with ``[redacted]`` before any
handler sees the line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Protocol

from ..mapping.policy import Policy

__all__ = ["REDACTED", "SECRET_LOGGERS", "Redactor", "redact", "redact_secrets"]

REDACTED = "[redacted]"
"""What a secret's value becomes."""

SECRET_LOGGERS = (
    "pyfly_ws",
    "uvicorn.error",
    "uvicorn.access",
    "hypercorn.error",
    "hypercorn.access",
    "granian",
    "granian.access",
    "daphne.server",
    "daphne.http_protocol",
    "daphne.ws_protocol",
)
"""The loggers whose lines may hold a requested URL."""


class _Endpoint(Protocol):
    @property
    def policy(self) -> Policy: ...


def redact(text: str, names: Iterable[str]) -> str:
    """``text`` with the value of each query parameter in ``names`` replaced by :data:`REDACTED`."""
    for name in names:
        if name + "=" in text:
            text = re.sub(rf"(?<=[?&;]){re.escape(name)}=[^&;\s\"'#]*", f"{name}={REDACTED}", text)
    return text


class Redactor(logging.Filter):
    """A filter that rewrites each record's message without the secret parameters' values."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True  # the handler reports a record it cannot format: nothing here to blank
        if any(name + "=" in message for name in self.names):
            record.msg, record.args = redact(message, self.names), ()
        return True


_redactor = Redactor()


def redact_secrets(endpoints: Iterable[_Endpoint]) -> None:
    """Blank the secret query parameters of ``endpoints``' authenticators out of :data:`SECRET_LOGGERS`."""
    authenticators = [endpoint.policy.authenticator for endpoint in endpoints]
    names = {name for authenticator in authenticators if authenticator is not None for name in authenticator.secrets}
    if not names or names <= _redactor.names:
        return
    _redactor.names |= names
    for logger_name in SECRET_LOGGERS:
        logger = logging.getLogger(logger_name)
        if _redactor not in logger.filters:
            logger.addFilter(_redactor)
