"""Logging for ``pyfly-ws run``: pyfly-ws's lines and the server's in one format, at one level."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

__all__ = ["LOG_FORMAT", "LOG_LEVELS", "configure_logging", "logging_config"]

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
"""Time, level, logger and message: ``2025-01-31 12:00:00,123 INFO    pyfly_ws: ...``."""

LOG_LEVELS = ("debug", "info", "warning", "error")
"""The levels ``pyfly-ws run --log-level`` takes."""

LOGGERS = ("pyfly_ws", "uvicorn", "hypercorn")
"""The loggers set to the chosen level: pyfly-ws's own (``pyfly_ws.hub`` too) and the servers'."""


def logging_config(level: str = "info", *, root: bool = True) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dict: :data:`LOGGERS` at ``level``, written to stderr.

    With ``root``, other loggers' warnings (the application's, say) get the same
    handler and format.
    """
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}; choose one of {', '.join(LOG_LEVELS)}")
    chosen = level.upper()
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"pyfly_ws": {"format": LOG_FORMAT}},
        "handlers": {
            "pyfly_ws": {
                "class": "logging.StreamHandler",
                "formatter": "pyfly_ws",
                "stream": "ext://sys.stderr",
                "level": chosen,  # a handler the application adds to a logger may still take more
            }
        },
        "loggers": {name: {"level": chosen, "handlers": ["pyfly_ws"], "propagate": False} for name in LOGGERS},
    }
    # uvicorn.access and hypercorn.access may have been given handlers of their own; they follow their parent.
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi", "hypercorn.error", "hypercorn.access"):
        config["loggers"][name] = {"level": chosen, "handlers": [], "propagate": True}
    if root:
        config["root"] = {"level": max(chosen, "WARNING", key=logging.getLevelName), "handlers": ["pyfly_ws"]}
    return config


def configure_logging(level: str = "info") -> None:
    """Apply :func:`logging_config`; the root logger only if the application has not configured it."""
    logging.config.dictConfig(logging_config(level, root=not logging.getLogger().handlers))
