"""Serving an application on the native transport inside the test's own event loop, and raw-socket helpers."""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pyfly_ws.native import NativeServer
from pyfly_ws.servers.run import listen

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


@asynccontextmanager
async def served(app: object) -> AsyncIterator[int]:
    """Serve ``app`` on a free port of 127.0.0.1 until the block ends; yields the port."""
    sock = listen("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(NativeServer(app).serve(sock, ready=ready.set, stop=stop))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        sock.close()


async def request(port: int, head: bytes) -> bytes:
    """Send ``head`` on a new connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def handshake(path: str, *extra: str) -> bytes:
    """A WebSocket handshake request for ``path``."""
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """One masked client frame."""
    mask = os.urandom(4)
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Peer:
    """A raw WebSocket client: frames out as written, frames in as parsed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, path: str) -> Peer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(handshake(path))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def next(self) -> tuple[int, bytes]:
        """The next frame's opcode and payload (``(-1, b"")`` once the server closed the connection)."""
        try:
            first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        except asyncio.IncompleteReadError:
            return -1, b""
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    async def close_code(self) -> int:
        """The code of the close frame the server sends next, skipping data frames."""
        while True:
            opcode, payload = await self.next()
            if opcode == 8:
                return int(struct.unpack("!H", payload[:2])[0]) if payload else 1005
            if opcode == -1:
                raise AssertionError("the connection ended without a close frame")

    def close(self) -> None:
        self.writer.close()
