"""``not_reading``: a WebSocket client that completes the handshake and then never reads.

WebSocket client libraries keep reading in the background, so a client that
"stops reading" is made here from a bare TCP socket with a small receive
buffer: once the server's buffers fill, its ``send`` has to wait (on servers
with ``send_backpressure``), which is what slow-consumer cases need.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio

__all__ = ["not_reading"]


@asynccontextmanager
async def not_reading(url: str, *, headers: dict[str, str] | None = None) -> AsyncIterator[None]:
    """Open a WebSocket to ``url`` (``ws://host:port/path?query``), read its 101 response, then read nothing."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        await anyio.to_thread.run_sync(_handshake, sock, host, port, ("\r\n".join(lines) + "\r\n\r\n").encode())
        yield
    finally:
        sock.close()


def _handshake(sock: socket.socket, host: str, port: int, request: bytes) -> None:
    sock.setblocking(True)
    sock.settimeout(10)
    sock.connect((host, port))
    sock.sendall(request)
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)  # one byte at a time: nothing past the response headers is read
        if not chunk:
            raise ConnectionError("the server closed the connection during the handshake")
        response += chunk
    status = response.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        raise ConnectionError(f"handshake refused: {status.decode('latin-1')}")
