"""The real ASGI servers the conformance kit runs every case on, and what each of them can do.

Each server runs in its own process group on a free port of 127.0.0.1, serving an
application given as an import string (``"pkg.mod:app"``), so a case talks to it
with a real WebSocket client over loopback. ``SERVERS`` records, per server, the
behaviours that differ between them; ``tests/conformance/test_servers.py`` checks
every recorded flag against the running server, so the table cannot go stale.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import IO

__all__ = [
    "SERVERS",
    "Served",
    "ServerCapabilities",
    "ServerConfig",
    "available",
    "free_port",
    "get",
    "install_hint",
    "running",
    "serving",
]

HOST = "127.0.0.1"
_READY_PATH = "/__pyfly_ws_ready__"
_STOP_TIMEOUT = 10.0
_LOG_LINES = 40
_BIND_RETRIES = 3


@dataclass(frozen=True)
class ServerCapabilities:
    """What an ASGI server can do for an app; a conformance case that needs a flag the server lacks is skipped, naming the server and the flag."""  # noqa: E501

    close_reason: bool
    """The reason an app passes in ``websocket.close`` reaches the client (not just the code)."""
    peer_close_code: bool
    """The app's ``websocket.disconnect`` carries the code the client sent in its close frame."""
    peer_close_reason: bool
    """The app's ``websocket.disconnect`` carries the reason the client sent in its close frame."""
    http_denial: bool
    """The ``websocket.http.response`` extension: an app can refuse a handshake with its own status and body."""
    accept_headers: bool
    """Extra headers in ``websocket.accept`` reach the client."""
    subprotocols: bool
    """The subprotocol in ``websocket.accept`` reaches the client."""
    send_after_disconnect_raises: bool
    """After the client left, the app's ``send`` raises (an ``OSError`` or another exception) instead of dropping it."""
    abrupt_drop_code: int
    """The code in ``websocket.disconnect`` when the client vanishes without a close frame (1006 by the spec)."""
    lifespan: bool
    """The server runs the ASGI lifespan protocol, so an app's startup and shutdown hooks run."""
    empty_messages: bool
    """Empty text and binary messages an app sends reach the client (empty messages from the client always arrive)."""
    max_message_size: int
    """The largest message (bytes, in one frame) the server accepts from a client by default."""
    too_big_close_code: int
    """The close code a client sees past ``max_message_size``: 1009 by the spec, 1005 if the close frame has no code, 1006 if the connection just drops."""  # noqa: E501
    client_port_int: bool
    """``scope["client"]`` is a ``(host, port)`` pair with an ``int`` port, as the ASGI spec says."""
    protocol_close_codes: bool
    """An app can close with the protocol codes 1001-1014 (1003, 1007, 1011...), not only 1000 and 3000-4999."""
    repeated_headers: bool
    """A header the client sends twice reaches the app as two header pairs, not joined with a comma."""
    send_backpressure: bool
    """The app's ``send`` waits while a client is not reading (a full buffer), instead of buffering without bound."""


@dataclass(frozen=True)
class ServerConfig:
    """One way of serving an ASGI app: a server (and for uvicorn, a WebSocket implementation)."""

    name: str
    """The server's name in the conformance kit, a key of ``SERVERS``."""
    capabilities: ServerCapabilities
    """What the server does for an app, measured rather than documented."""
    extra: str
    """The pip extra of pyfly-ws that installs the server: ``pip install "pyfly-ws[EXTRA]"``."""
    module: str
    """The module that must be importable for the server to run (``python -m MODULE`` starts it)."""
    arguments: Callable[[str, str, int], list[str]] = field(repr=False)
    """The server's command-line arguments for ``(target, host, port)``, after ``python -m MODULE``."""
    requires: tuple[str, ...] = ()
    """Further modules the configuration needs (for uvicorn, its WebSocket implementation)."""
    stop_signal: int = signal.SIGTERM
    """The signal that makes the server shut down gracefully."""
    adapters: tuple[str, ...] | None = None
    """The adapters whose applications it serves; ``None``: any ASGI application (every ASGI server)."""

    def command(self, target: str, host: str, port: int) -> list[str]:
        """The argv serving the ASGI app at import string ``target`` on ``host:port``: one worker, warnings only."""
        return [sys.executable, "-m", self.module, *self.arguments(target, host, port)]


_UVICORN_ARGS = ("--workers", "1", "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "5")
_GRANIAN_ARGS = ("--interface", "asgi", "--ws", "--workers", "1", "--log-level", "warning", "--no-access-log")


def _uvicorn(ws: str) -> Callable[[str, str, int], list[str]]:
    def arguments(target: str, host: str, port: int) -> list[str]:
        return [target, "--host", host, "--port", str(port), "--ws", ws, *_UVICORN_ARGS]

    return arguments


def _hypercorn(target: str, host: str, port: int) -> list[str]:
    return ["--bind", f"{host}:{port}", "--workers", "1", "--log-level", "WARNING", "--graceful-timeout", "5", target]


def _granian(target: str, host: str, port: int) -> list[str]:
    return [*_GRANIAN_ARGS, "--host", host, "--port", str(port), target]


def _picows(target: str, host: str, port: int) -> list[str]:
    return ["run", target, "--server", "picows", "--host", host, "--port", str(port), "--log-level", "warning"]


def _daphne(target: str, host: str, port: int) -> list[str]:
    return ["-b", host, "-p", str(port), "-v", "0", "--application-close-timeout", "5", target]


_MIB = 1024 * 1024
_SPEC = ServerCapabilities(
    close_reason=True,
    peer_close_code=True,
    peer_close_reason=True,
    http_denial=True,
    accept_headers=True,
    subprotocols=True,
    send_after_disconnect_raises=True,
    abrupt_drop_code=1006,
    lifespan=True,
    empty_messages=True,
    max_message_size=16 * _MIB,
    too_big_close_code=1009,
    client_port_int=True,
    protocol_close_codes=True,
    repeated_headers=True,
    send_backpressure=True,
)
# Measured with tests/conformance/test_servers.py (uvicorn 0.54, hypercorn 0.18, granian 2.8, daphne 4.2).
_UVICORN_CAPS = replace(_SPEC, abrupt_drop_code=1005)  # its sans-I/O protocols report 1005 on a bare EOF
_HYPERCORN_CAPS = replace(_SPEC, peer_close_code=False, peer_close_reason=False, send_after_disconnect_raises=False)
_GRANIAN_CAPS = replace(
    _SPEC,
    peer_close_reason=False,
    accept_headers=False,
    send_after_disconnect_raises=False,
    abrupt_drop_code=1005,
    too_big_close_code=1005,
    client_port_int=False,
)
_DAPHNE_CAPS = replace(
    _SPEC,
    close_reason=False,
    peer_close_reason=False,
    http_denial=False,
    accept_headers=False,
    send_after_disconnect_raises=False,
    lifespan=False,
    empty_messages=False,
    max_message_size=_MIB,
    too_big_close_code=1006,
    protocol_close_codes=False,  # its WebSocket library refuses 1001-1014: no close frame is sent
    repeated_headers=False,  # Twisted joins them: "a,b"
    send_backpressure=False,  # Twisted buffers whatever the app sends
)

SERVERS: Mapping[str, ServerConfig] = MappingProxyType(
    {
        config.name: config
        for config in (
            ServerConfig(
                "uvicorn-sansio", _UVICORN_CAPS, "uvicorn", "uvicorn", _uvicorn("websockets-sansio"), ("websockets",)
            ),
            ServerConfig("uvicorn-websockets", _SPEC, "uvicorn", "uvicorn", _uvicorn("websockets"), ("websockets",)),
            ServerConfig("uvicorn-wsproto", _UVICORN_CAPS, "uvicorn", "uvicorn", _uvicorn("wsproto"), ("wsproto",)),
            ServerConfig("hypercorn", _HYPERCORN_CAPS, "hypercorn", "hypercorn", _hypercorn),
            ServerConfig("granian", _GRANIAN_CAPS, "granian", "granian", _granian),
            ServerConfig("daphne", _DAPHNE_CAPS, "daphne", "daphne", _daphne),
            # pyfly-ws's native transport: no ASGI server, the asgi adapter's endpoints and pages served on picows.
            ServerConfig("picows", _SPEC, "picows", "pyfly_ws", _picows, ("picows",), adapters=("asgi",)),
        )
    }
)
"""The server configurations the conformance kit knows, by name, in the order the kit runs them."""


def get(name: str) -> ServerConfig:
    """The configuration called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return SERVERS[name]
    except KeyError:
        raise ValueError(f"unknown server {name!r}; choose one of: {', '.join(SERVERS)}") from None


def _missing(config: ServerConfig) -> list[str]:
    return [module for module in (config.module, *config.requires) if importlib.util.find_spec(module) is None]


def available(server: str) -> bool:
    """Whether the packages ``server`` needs are importable here."""
    return not _missing(get(server))


def install_hint(server: str) -> str:
    """What ``server`` lacks here and the pip command that installs it (its extra, plus any module it lacks)."""
    config = get(server)
    missing = _missing(config) or [config.module]
    extras = "".join(f" {module}" for module in missing if module in config.requires)
    names = " and ".join(missing)
    return f'server {server!r} needs {names}, which is not installed: pip install "pyfly-ws[{config.extra}]"{extras}'


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether ``process`` has exited, without reaping it, so its pid still names its process group."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
    except AttributeError:  # no waitid (macOS): reaping is the only way to know
        return process.poll() is not None


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - Windows has no process groups to signal
            process.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    """Ask the whole process group to stop, wait up to ten seconds, then kill whatever is left of it."""
    try:
        if not _exited(process):
            _signal_group(process, sig)
            deadline = time.monotonic() + _STOP_TIMEOUT
            while not _exited(process) and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        if process.returncode is None:  # not reaped yet, so the group's id cannot have been reused
            _signal_group(process, signal.SIGKILL)  # whatever workers the server left behind
        process.wait()


def _answers_http(port: int) -> bool:
    """Whether the server on ``port`` accepts a connection and answers an HTTP request there."""
    request = f"GET {_READY_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(request)
            return sock.recv(8).startswith(b"HTTP/")
    except OSError:
        return False


def _tail(log: IO[bytes], lines: int = _LOG_LINES) -> str:
    log.flush()
    text = Path(log.name).read_bytes().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _start(
    config: ServerConfig, target: str, env: Mapping[str, str], timeout: float, log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the server on a free port and wait until it answers; a lost race for the port is retried."""
    for attempt in range(_BIND_RETRIES):
        port = free_port()
        start = log.tell()
        process = subprocess.Popen(
            config.command(target, HOST, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _exited(process):
                if _answers_http(port):
                    return process, port
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{config.name} did not become ready on port {port} within {timeout:g} s")
                time.sleep(0.05)
        except BaseException:
            _stop(process, signal.SIGKILL)
            raise
        _stop(process, signal.SIGKILL)
        log.seek(start)
        if "address already in use" not in log.read().decode(errors="replace").lower() or attempt + 1 == _BIND_RETRIES:
            raise RuntimeError(f"{config.name} exited with code {process.returncode} before it was ready")
        log.seek(0, os.SEEK_END)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Served:
    """A server that :func:`serving` started: where it answers and the process group it runs in."""

    url: str
    """``"ws://127.0.0.1:PORT"``."""
    pid: int
    """The server's first process, leader of its process group (workers the server forks join that group)."""


@contextmanager
def running(
    server: str, target: str, *, env: Mapping[str, str] | None = None, startup_timeout: float = 30.0
) -> Iterator[str]:
    """Serve the ASGI app at import string ``target`` with ``server`` on 127.0.0.1; yields ``"ws://127.0.0.1:PORT"``.

    The server runs in a new process group (``env`` is added to ``os.environ``), its output
    going to a temporary log file. It counts as ready once it answers an HTTP request; if it
    exits before or is not ready within ``startup_timeout`` seconds, ``RuntimeError`` carries
    the last lines of its log. On leaving, however that happens, the whole group is asked to
    stop, given ten seconds, then killed. A failure raised in the block gets the log's tail
    attached as a note.
    """
    with serving(server, target, env=env, startup_timeout=startup_timeout) as served:
        yield served.url


@contextmanager
def serving(
    server: str, target: str, *, env: Mapping[str, str] | None = None, startup_timeout: float = 30.0
) -> Iterator[Served]:
    """Like :func:`running`, yielding a :class:`Served` that also names the server's process (for measuring it)."""
    config = get(server)
    if not available(server):
        raise RuntimeError(install_hint(server))
    with tempfile.NamedTemporaryFile(prefix=f"pyfly-ws-{server}-", suffix=".log") as log:
        try:
            process, port = _start(config, target, env or {}, startup_timeout, log)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; last lines of its log:\n{_tail(log)}") from None
        try:
            yield Served(f"ws://{HOST}:{port}", process.pid)
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit | KeyboardInterrupt | SystemExit):  # failures, pytest's included
                exc.add_note(f"{server} log (last {_LOG_LINES} lines):\n{_tail(log)}")
            raise
        finally:
            _stop(process, config.stop_signal)
