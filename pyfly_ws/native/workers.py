"""``serve``: run an application on the native transport, in one process or several sharing the port.

With ``workers=1`` the server runs in this process. With more, this process
binds the address with ``SO_REUSEPORT`` and forks the workers; each binds the
same address again, and the kernel shares new connections out among them.
The parent passes SIGINT and SIGTERM on to every worker (each drains its own
sessions with 1001), starts a worker again if one dies, and returns once all
have stopped. Workers share nothing but the port: rooms reach across them
only through a hub on a shared backend (``Hub(RedisBackend(url))``), as they
reach across the processes of any other server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable

from ..exceptions import ConfigurationError
from ..servers.logs import configure_logging
from ..servers.run import listen
from .server import NativeServer

__all__ = ["STARTUP_FAILED", "serve"]

STARTUP_FAILED = 3
"""The exit status of a worker whose lifespan startup failed (as uvicorn's): the parent then stops them all."""

_RESPAWN_PAUSE = 1.0
_PR_SET_PDEATHSIG = 1
_log = logging.getLogger("pyfly_ws.native")


def serve(
    app: object,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    workers: int = 1,
    sock: socket.socket | None = None,
    log_level: str | None = "info",
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` (built by :func:`~pyfly_ws.create_app` with the ``asgi`` adapter) on picows until stopped.

    ``sock`` is an already bound socket to serve instead of ``host:port``
    (bound with ``SO_REUSEPORT`` when ``workers`` > 1). ``log_level`` sets up
    pyfly-ws's log lines on stderr (``None``: leave logging as it is).
    ``ready`` is called in each worker once it accepts connections. A failed
    lifespan startup raises ``SystemExit(3)``.
    """
    if workers < 1:
        raise ConfigurationError(f"workers must be 1 or more, got {workers}")
    server = NativeServer(app)  # an application it cannot serve is refused before the port is taken
    if log_level is not None:
        configure_logging(log_level)
    bound = listen(host, port, reuse_port=workers > 1) if sock is None else sock
    try:
        if workers == 1:
            _run(server, bound, ready)
        else:
            _supervise(server, bound, workers, ready)
    finally:
        bound.close()


def _run(server: NativeServer, sock: socket.socket, ready: Callable[[], None] | None) -> None:
    try:
        import uvloop
    except ImportError:  # the picows extra installs uvloop where it runs; asyncio's own loop serves too
        asyncio.run(server.serve(sock, ready=ready))
    else:
        uvloop.run(server.serve(sock, ready=ready))


def _spawn(server: NativeServer, sock: socket.socket, ready: Callable[[], None] | None) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:  # the worker: its own socket in the port's group, its own event loop
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
        host, port = sock.getsockname()[:2]
        own = listen(host, port, reuse_port=True)  # its own socket in the port's group
        sock.close()
        _run(server, own, ready)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        logging.shutdown()
        os._exit(status)


def _die_with_parent() -> None:
    """On Linux, have the kernel send SIGTERM to this worker when its parent dies, however it dies (SIGKILL too)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the call: nobody will send it
        os.kill(os.getpid(), signal.SIGTERM)


def _supervise(server: NativeServer, sock: socket.socket, workers: int, ready: Callable[[], None] | None) -> None:
    """Fork ``workers`` workers, pass the stop signals on, start again a worker that dies."""
    stopping = False

    def on_signal(sig: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    children: dict[int, float] = {}
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = False
    try:
        for _ in range(workers):
            children[_spawn(server, sock, ready)] = time.monotonic()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries os.wait itself
                continue
            started = children.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == STARTUP_FAILED:
                failed = True
                on_signal(signal.SIGTERM, None)
            elif not stopping:
                _log.error("worker %d exited with status %d; starting another", pid, code)
                time.sleep(max(0.0, _RESPAWN_PAUSE - (time.monotonic() - started)))
                if not stopping:  # a signal may have come during the pause
                    children[_spawn(server, sock, ready)] = time.monotonic()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise SystemExit(STARTUP_FAILED)
