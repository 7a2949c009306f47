"""Running an ASGI application on an installed server, for the ``pyfly-ws run`` command."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from .exceptions import ConfigurationError

__all__ = ["SERVERS", "run_server"]


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(f'the {module} server is not installed: pip install "pyfly-ws[{extra}]"')


def _uvicorn(app: Any, host: str, port: int) -> None:
    _need("uvicorn", "uvicorn")
    import uvicorn

    ws = "websockets-sansio" if importlib.util.find_spec("websockets") else "auto"
    uvicorn.run(app, host=host, port=port, ws=ws, log_level="info")


def _hypercorn(app: Any, host: str, port: int) -> None:
    _need("hypercorn", "hypercorn")
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    asyncio.run(serve(app, config))


SERVERS: dict[str, Callable[[Any, str, int], None]] = {"uvicorn": _uvicorn, "hypercorn": _hypercorn}
"""The servers ``pyfly-ws run --server`` knows, by name."""


def run_server(name: str, app: Any, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` until interrupted."""
    try:
        runner = SERVERS[name]
    except KeyError:
        raise ConfigurationError(f"unknown server {name!r}; choose one of {', '.join(sorted(SERVERS))}") from None
    runner(app, host, port)
