"""``pyfly-ws run`` gives the server the application's message limit: big messages cost the server little memory."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections import Counter
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from examples.echo import EchoController
from pyfly_ws import Limits, SessionRegistry, create_app, discover, server_settings
from tests.support.run_command import free_port, pyfly_ws_run, until_up

MiB = 1024 * 1024
CLIENTS = 20
SIZE = 15 * MiB
"""Each client sends one message this big: under the servers' own 16 MiB, far over the default 1 MiB limit."""
ZEROS = memoryview(bytes(SIZE))


def test_settings_carry_the_largest_limit_of_the_application() -> None:
    app = create_app(EchoController)
    assert server_settings(app) == server_settings(app, "uvicorn") == {"ws_max_size": MiB}
    assert server_settings(app, "hypercorn") == {"websocket_max_message_size": MiB}
    assert server_settings(app, "granian") == {}
    big = create_app(EchoController, limits=Limits(max_message_size=5 * MiB))
    assert server_settings(big, "hypercorn") == {"websocket_max_message_size": 5 * MiB}


def test_settings_bound_an_endpoint_without_a_limit() -> None:
    unlimited = discover(EchoController, limits=Limits(max_message_size=None))
    assert server_settings(unlimited) == {"ws_max_size": 16 * MiB}
    huge = discover(EchoController, limits=Limits(max_message_size=64 * MiB))
    assert server_settings([*unlimited, *huge])["ws_max_size"] == 64 * MiB
    registry = SessionRegistry()
    create_app(EchoController, registry=registry, limits=Limits(max_message_size=1000))
    assert server_settings(registry) == {"ws_max_size": 1000}


def test_settings_refuse_what_is_not_a_pyfly_ws_application() -> None:
    with pytest.raises(TypeError, match="has no pyfly-ws endpoints"):
        server_settings(object())
    with pytest.raises(ValueError, match="unknown server 'daphne'"):
        server_settings(create_app(EchoController), "daphne")


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


async def _send_plain(port: int) -> object:
    """One 15 MiB binary frame over a raw socket (mask key 0, so one buffer serves every client); the close code."""
    loop = asyncio.get_running_loop()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += await loop.sock_recv(sock, 4096)
        head, _, data = data.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head

        async def close_code(data: bytes) -> object:
            while len(data) < 4:
                chunk = await loop.sock_recv(sock, 4096)
                if not chunk:
                    return "eof"
                data += chunk
            return ("close", struct.unpack("!H", data[2:4])[0]) if data[0] & 0x0F == 8 else ("opcode", data[0])

        reply = asyncio.ensure_future(close_code(data))
        await loop.sock_sendall(sock, bytes([0x82, 0x80 | 127]) + struct.pack("!Q", SIZE) + bytes(4))
        try:
            for start in range(0, SIZE, 64 * 1024):
                if reply.done():
                    break
                await loop.sock_sendall(sock, ZEROS[start : start + 64 * 1024])
        except ConnectionError:
            pass  # the server closed while the client wrote: its close frame came first
        return await asyncio.wait_for(reply, 20)


async def _send_compressed(port: int) -> object:
    """One 15 MiB message of zeros with per-message deflate (some 15 KB on the wire); the close code."""
    async with connect(f"ws://127.0.0.1:{port}/ws/echo", compression="deflate", open_timeout=10) as ws:
        assert ws.response is not None
        assert "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")
        try:
            await ws.send(bytes(ZEROS))
            await asyncio.wait_for(ws.recv(), 20)
        except ConnectionClosed as closed:
            return ("close", closed.rcvd.code if closed.rcvd else None)
        return "echoed"


async def _echoes(port: int) -> bool:
    async with connect(f"ws://127.0.0.1:{port}/ws/echo", open_timeout=5) as ws:
        await ws.send("still here")
        return await asyncio.wait_for(ws.recv(), 5) == "still here"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak memory from /proc")
@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "deflate"])
def test_twenty_huge_messages_cost_the_server_little_memory(server: str, compressed: bool) -> None:
    """20 clients x one 15 MiB message: the server refuses each (1009) and its peak memory grows < 64 MiB.

    Before ``pyfly-ws run`` gave the server the application's limit, the server buffered (and inflated)
    every message up to its own 16 MiB first: some 250-350 MiB more at the peak.
    """
    port = free_port()
    with pyfly_ws_run(["examples.echo", "--server", server, "--port", str(port), "--log-level", "warning"]) as proc:
        assert until_up(lambda: asyncio.run(_echoes(port)), proc)
        before = _peak_rss(proc.pid)
        send = _send_compressed if compressed else _send_plain

        async def attack() -> list[object]:
            return await asyncio.gather(*(send(port) for _ in range(CLIENTS)))

        outcomes = Counter(asyncio.run(attack()))
        growth = _peak_rss(proc.pid) - before
        assert outcomes == {("close", 1009): CLIENTS}
        assert growth < 64 * MiB, f"{server}: peak memory grew {growth / MiB:.0f} MiB"
        assert asyncio.run(_echoes(port))
