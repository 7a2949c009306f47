"""picows's log lines, at the levels pyfly-ws's close-code contract gives them, and what they tell a connection.

picows logs every connection at INFO ("New connection accepted",
"Disconnected") and a client that breaks the WebSocket protocol at ERROR. Under
pyfly-ws a connection is not news, and a misbehaving client is not a server
error: the first two go to DEBUG, the protocol errors to INFO, all on the
``pyfly_ws.native`` logger. Anything else picows says keeps its level.

The protocol-error line is also the only moment picows tells its listener
about a frame it refused, just before it answers with a close frame of its
own: each connection gets its own :class:`PicowsLog`, which passes the error
on (:meth:`~pyfly_ws.native.connection.NativeConnection.refused_frame`).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, Protocol

__all__ = ["PicowsLog", "Refusals"]


class Refusals(Protocol):
    """What hears of a frame picows refused: the connection it belongs to."""

    def refused_frame(self, code: int, reason: str) -> None:
        """picows refused a frame and is about to close with ``code``."""


_LOGGER = logging.getLogger("pyfly_ws.native")
_ROUTINE = ("New connection accepted", "Disconnected")
_CLIENT_FAULT = "WS parser error"


class PicowsLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to picows for one connection."""

    def __init__(self, connection: Refusals | None = None) -> None:
        super().__init__(_LOGGER, {})
        self.connection = connection

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        text = str(msg)
        if level == logging.INFO and text.startswith(_ROUTINE):
            level = logging.DEBUG
        elif level == logging.ERROR and text.startswith(_CLIENT_FAULT):
            level = logging.INFO
            if self.connection is not None and args and isinstance(args[0], tuple) and len(args[0]) == 2:
                code, reason = args[0]
                self.connection.refused_frame(int(code), str(reason))
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs
