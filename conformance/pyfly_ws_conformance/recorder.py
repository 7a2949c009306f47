"""Observations made inside the application's process, and the probe endpoint that reads them.

Case controllers record what happened server-side (``on_disconnect`` calls,
controller construction, what a handler received) under the token the test
put in the query string. Log records of the ``pyfly_ws`` logger are kept too.
The probe endpoint serves both to the test over a WebSocket, so the same
case works in-process and against a server in another process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping

__all__ = ["PROBE_PATH", "RECORDER", "ProbeController", "Recorder", "token_of"]

PROBE_PATH = "/_conformance/probe"


class Recorder(logging.Handler):
    """Events by token, and every ``pyfly_ws`` log record, for the probe to report."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._lock = threading.Lock()
        self.events: defaultdict[str, list[Any]] = defaultdict(list)
        self.logs: list[dict[str, Any]] = []

    def record(self, token: str, event: Any) -> None:
        """Remember ``event`` (JSON-ready) for the case run identified by ``token``."""
        with self._lock:
            self.events[token].append(event)

    def events_of(self, token: str) -> list[Any]:
        """A copy of the events recorded for ``token``."""
        with self._lock:
            return list(self.events.get(token, ()))

    def logs_since(self, index: int) -> list[dict[str, Any]]:
        """A copy of the log records from position ``index`` on."""
        with self._lock:
            return self.logs[index:]

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.logs.append(
                {
                    "level": record.levelname,
                    "message": record.getMessage(),
                    "traceback": record.exc_info is not None,
                    "logger": record.name,
                }
            )

    def install(self) -> None:
        """Attach to the ``pyfly_ws`` logger (once) so its records are kept at every level."""
        logger = logging.getLogger("pyfly_ws")
        if self not in logger.handlers:
            logger.addHandler(self)
        if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG)


RECORDER = Recorder()
"""The recorder of this process."""


def token_of(session: WebSocketSession) -> str:
    """The case run's token, sent by the test as the ``t`` query parameter."""
    return session.query_params.get("t", "")


async def _registry_op(session: WebSocketSession, request: dict[str, Any]) -> Any:
    """Drain one endpoint, reopen it, or count live sessions, on the application serving the probe."""
    registry = session.registry
    if registry is None:
        return None
    op = request["op"]
    if op == "counts":
        return registry.counts()
    if op == "reopen":
        registry.reopen()
        return True
    started = time.monotonic()
    drained = await registry.drain(float(request.get("timeout", 5.0)), path=str(request["path"]))
    return {"drained": drained, "seconds": time.monotonic() - started}


@rest_controller
@request_mapping(PROBE_PATH)
class ProbeController:
    """Answers ``{"op": "events", "token": t}`` and ``{"op": "logs", "since": n}`` with JSON."""

    @websocket_mapping("")
    async def probe(self, session: WebSocketSession) -> None:
        await session.accept()
        async for request in session.iter_json():
            op = request.get("op")
            if op == "events":
                await session.send_json(RECORDER.events_of(str(request.get("token", ""))))
            elif op == "logs":
                await session.send_json(RECORDER.logs_since(int(request.get("since", 0))))
            elif op == "log_count":
                await session.send_json(len(RECORDER.logs_since(0)))
            elif op in ("drain", "reopen", "counts"):
                await session.send_json(await _registry_op(session, request))
            else:
                await session.close(4400, "unknown probe op")
