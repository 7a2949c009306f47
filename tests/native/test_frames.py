"""The frame layer of the native transport, byte by byte: what picows lets through is this transport's to check."""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from tests.native.apps import build
from tests.native.serving import Peer, frame, served

pytestmark = pytest.mark.anyio

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    return frame(CLOSE, b"" if code is None else struct.pack("!H", code) + reason)


async def echoed(peer: Peer) -> tuple[int, bytes]:
    while True:
        opcode, payload = await peer.next()
        if opcode != PONG:
            return opcode, payload


async def test_fragmented_messages_are_joined_with_pings_between_their_frames() -> None:
    async with served(build()) as port:
        peer = await Peer.open(port, "/ws/echo")
        peer.send(frame(TEXT, "héllo, ".encode()[:2], fin=False))
        peer.send(frame(PING, b"p"))
        peer.send(frame(CONTINUATION, "héllo, ".encode()[2:], fin=False))
        peer.send(frame(CONTINUATION, "wörld".encode()))
        assert await peer.next() == (PONG, b"p")
        assert await echoed(peer) == (TEXT, "héllo, wörld".encode())
        peer.send(frame(BINARY, b"\x00\x01", fin=False) + frame(CONTINUATION, b"\x02"))
        assert await echoed(peer) == (BINARY, b"\x00\x01\x02")
        peer.send(close(1000))
        assert await peer.close_code() == 1000
        peer.close()


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([frame(TEXT, b"\xff\xfe")], 1007),
        ([frame(TEXT, "é".encode()[:1], fin=False), frame(CONTINUATION, b"\xff")], 1007),
        ([frame(CONTINUATION, b"orphan")], 1002),
        ([frame(TEXT, b"a", fin=False), frame(TEXT, b"b")], 1002),
        ([frame(TEXT, b"a", rsv=4)], 1002),
        ([frame(TEXT, b"a" * 40000, fin=False), frame(CONTINUATION, b"a" * 40000)], 1009),
        ([frame(BINARY, b"a" * 70000)], 1009),
        ([close(1006)], 1002),
        ([close(0)], 1002),
        ([close(5000)], 1002),
    ],
    ids=[
        "bad-utf8",
        "bad-utf8-fragmented",
        "orphan-continuation",
        "message-inside-message",
        "reserved-bits",
        "joined-over-the-limit",
        "frame-over-the-limit",
        "close-1006",
        "close-0",
        "close-5000",
    ],
)
async def test_a_broken_protocol_is_closed_with_its_code(frames: list[bytes], code: int) -> None:
    async with served(build()) as port:
        peer = await Peer.open(port, "/ws/echo")
        for data in frames:
            peer.send(data)
        assert await peer.close_code() == code
        assert await peer.next() == (-1, b"")  # and the connection ends
        peer.close()


@pytest.mark.parametrize(
    ("sent", "answer"), [(close(4000, b"bye"), 4000), (close(), 1000), (close(1001) + close(1000), 1001)]
)
async def test_the_peers_close_is_answered_with_its_code(sent: bytes, answer: int) -> None:
    """Its own code echoed (1000 for a close without one); a second close frame after the first is ignored."""
    async with served(build()) as port:
        peer = await Peer.open(port, "/ws/echo")
        peer.send(sent)
        assert await peer.close_code() == answer
        assert await peer.next() == (-1, b"")
        peer.close()


async def test_a_handler_that_does_not_read_stops_the_socket_being_read() -> None:
    """Past a few messages held, reading pauses: the client's writes block long before 64 MiB are taken."""
    async with served(build()) as port:
        peer = await Peer.open(port, "/ws/still")
        assert await peer.next() == (TEXT, b"not reading")
        sock = peer.writer.get_extra_info("socket")
        raw = socket.socket(fileno=sock.fileno())  # the same socket, written without asyncio's buffering
        try:
            raw.setblocking(False)
            chunk = frame(BINARY, b"x" * 60000)
            written, stalled_since = 0, None
            while written < 64 * 1024 * 1024:
                try:
                    written += raw.send(chunk)
                    stalled_since = None
                except BlockingIOError:
                    stalled_since = stalled_since or time.monotonic()
                    if time.monotonic() - stalled_since > 2.0:
                        break
                    await asyncio.sleep(0.01)
            assert written < 32 * 1024 * 1024, f"the server took {written} bytes from a handler that reads nothing"
        finally:
            raw.detach()
        peer.close()
