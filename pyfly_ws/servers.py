"""Running an ASGI application on an installed server, for the ``pyfly-ws run`` command."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from .exceptions import ConfigurationError
from .registry import SessionRegistry, registry_of

__all__ = ["SERVERS", "run_server"]


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(f'the {module} server is not installed: pip install "pyfly-ws[{extra}]"')


def _uvicorn(app: Any, host: str, port: int) -> None:
    _need("uvicorn", "uvicorn")
    import uvicorn

    ws = "websockets-sansio" if importlib.util.find_spec("websockets") else "auto"
    config = uvicorn.Config(app, host=host, port=port, ws=ws, log_level="info")
    registry = registry_of(app)
    server = uvicorn.Server(config) if registry is None else _draining_uvicorn(uvicorn, config, registry)
    server.run()


def _draining_uvicorn(uvicorn: Any, config: Any, registry: SessionRegistry) -> Any:
    """A uvicorn server that drains the application's sessions (1001) on the first signal, then stops.

    Left alone, uvicorn closes WebSocket connections itself with 1012 before
    the ASGI lifespan shutdown, so the application's own drain finds them gone.
    """
    import asyncio

    class DrainingServer(uvicorn.Server):  # type: ignore[misc]
        draining: asyncio.Task[None] | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.draining is None and not self.should_exit:
                self.draining = asyncio.get_event_loop().create_task(self._drain_then_exit(sig, frame))
                return
            super().handle_exit(sig, frame)

        async def _drain_then_exit(self, sig: int, frame: Any) -> None:
            try:
                await registry.drain()
            finally:
                uvicorn.Server.handle_exit(self, sig, frame)

    return DrainingServer(config)


def _hypercorn(app: Any, host: str, port: int) -> None:
    _need("hypercorn", "hypercorn")
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    registry = registry_of(app)

    async def drain_on_signal() -> None:
        """Hypercorn's shutdown trigger: on SIGINT/SIGTERM, drain the sessions (1001) before it stops."""
        import signal

        import anyio

        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                break
        if registry is not None:
            await registry.drain()

    asyncio.run(serve(app, config, shutdown_trigger=drain_on_signal))


SERVERS: dict[str, Callable[[Any, str, int], None]] = {"uvicorn": _uvicorn, "hypercorn": _hypercorn}
"""The servers ``pyfly-ws run --server`` knows, by name."""


def run_server(name: str, app: Any, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` until interrupted."""
    try:
        runner = SERVERS[name]
    except KeyError:
        raise ConfigurationError(f"unknown server {name!r}; choose one of {', '.join(sorted(SERVERS))}") from None
    runner(app, host, port)
