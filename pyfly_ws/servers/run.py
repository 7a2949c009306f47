"""Running an ASGI application on an installed server, for the ``pyfly-ws run`` command.

The socket is bound here, before the server starts (and before the
application's lifespan startup runs), so a taken port is one clear error; the
server gets the application's largest ``max_message_size`` as its own limit
(:func:`~pyfly_ws.server_settings`); its log lines share pyfly-ws's format.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import ConfigurationError
from ..lifecycle.apps import registry_of
from ..lifecycle.registry import Endpoint, SessionRegistry
from .logs import configure_logging
from .settings import server_settings

__all__ = ["SERVERS", "check_server", "listen", "run_server"]


def _uvicorn(app: Any, sock: socket.socket, endpoints: list[Endpoint], log_level: str) -> None:
    import uvicorn

    ws = "websockets-sansio" if importlib.util.find_spec("websockets") else "auto"
    settings = server_settings(endpoints, "uvicorn")
    config = uvicorn.Config(app, ws=ws, log_config=None, log_level=log_level, **settings)
    registry = registry_of(app)
    server = uvicorn.Server(config) if registry is None else _draining_uvicorn(uvicorn, config, registry)
    if threading.current_thread() is threading.main_thread():
        # uvicorn raises the signal again once it has stopped: let SIGTERM end as SIGINT does (exit 0).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        if not server.should_exit:  # interrupted before uvicorn handled the signals itself
            raise


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


def _bound_hypercorn(max_size: int) -> None:
    """Bound hypercorn's inflation and buffering at ``max_size``; a warning where its internals are not as known."""
    try:
        from .hypercorn_limits import bound_hypercorn
    except (ImportError, AttributeError):  # a hypercorn or wsproto release whose internals moved
        logging.getLogger("pyfly_ws").warning(
            "this hypercorn or wsproto release cannot be bounded: a compressed message may inflate to %d bytes "
            "before hypercorn refuses it; prefer uvicorn",
            max_size,
            exc_info=True,
        )
        return
    bound_hypercorn(max_size)


def _hypercorn(app: Any, sock: socket.socket, endpoints: list[Endpoint], log_level: str) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    settings = server_settings(endpoints, "hypercorn")
    config = Config.from_mapping(settings)
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the socket from here
    config.errorlog = logging.getLogger("hypercorn.error")  # a logger: hypercorn adds no handler of its own
    _bound_hypercorn(settings["websocket_max_message_size"])
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


SERVERS: dict[str, Callable[[Any, socket.socket, list[Endpoint], str], None]] = {
    "uvicorn": _uvicorn,
    "hypercorn": _hypercorn,
}
"""The servers ``pyfly-ws run --server`` knows, by name."""


def check_server(name: str) -> None:
    """Raise :class:`~pyfly_ws.ConfigurationError` if server ``name`` is unknown or not installed."""
    if name not in SERVERS:
        raise ConfigurationError(f"unknown server {name!r}; choose one of {', '.join(sorted(SERVERS))}")
    if importlib.util.find_spec(name) is None:
        raise ConfigurationError(f'the {name} server is not installed: pip install "pyfly-ws[{name}]"')


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), or one line saying why it cannot be.

    ``reuse_port`` sets ``SO_REUSEPORT``, so other processes can bind the same
    address (each with the option set) and the kernel shares the connections out.
    """
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"port {port} is out of range: choose a port from 0 to 65535 (0: any free port)")
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigurationError("several workers need SO_REUSEPORT, which this platform lacks: run one worker")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on {host!r}: {exc.strerror}; check --host") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and hypercorn do
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"{where} is already in use (is another server running?); choose another port with --port"
            ) from None
        raise ConfigurationError(f"cannot listen on {where}: {exc.strerror}; choose another --host or --port") from None
    return sock


def run_server(
    name: str,
    app: Any,
    host: str,
    port: int,
    *,
    endpoints: Iterable[Endpoint] | None = None,
    sock: socket.socket | None = None,
    log_level: str = "info",
    configure_logs: bool = True,
) -> None:
    """Serve ``app`` on ``host:port`` (or on the bound ``sock``) until interrupted.

    The server's message limit is the largest ``max_message_size`` of
    ``endpoints`` (by default those of ``registry_of(app)``); pyfly-ws's and the
    server's log lines go to stderr at ``log_level`` (``configure_logs=False``:
    logging is set up already, by :func:`~pyfly_ws.servers.logs.configure_logging`).
    """
    check_server(name)
    if endpoints is None:
        registry = registry_of(app)
        endpoints = registry.endpoints if registry is not None else []
    found = list(endpoints)  # none found: the server's limit is NO_LIMIT_BOUND, 16 MiB
    bound = listen(host, port) if sock is None else sock
    if configure_logs:
        configure_logging(log_level)
    try:
        SERVERS[name](app, bound, found, log_level)
    finally:
        bound.close()
