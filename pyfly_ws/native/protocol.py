"""``HandshakeProtocol``: a new TCP connection, until its request head says what it is.

It reads one request head (at most :data:`~pyfly_ws.native.http.MAX_HEAD`
bytes, within :data:`HEAD_TIMEOUT` seconds), stops reading, and lets the
server decide: a WebSocket handshake starts a session, whose ``accept`` hands
the socket to picows (:meth:`hand_over`), replaying the head so picows checks
it and answers 101 itself; anything else gets one short HTTP answer and the
connection is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from picows import WSAutoPingStrategy, WSUpgradeResponse, WSUpgradeResponseWithListener
from picows.picows import WSProtocol  # type: ignore[attr-defined]  # what ws_create_server builds

from ..discovery.routing import HTTPAnswer
from .connection import NativeConnection
from .http import MAX_HEAD, BadRequest, RequestHead, parse_head, response_bytes
from .logs import PicowsLog

__all__ = ["HEAD_TIMEOUT", "READ_BUFFER", "Dispatcher", "HandshakeProtocol"]

HEAD_TIMEOUT = 10.0
"""Seconds a new connection has to send its whole request head; a client that dawdles is dropped."""
READ_BUFFER = 4096
"""picows's first read buffer per connection, in bytes (it doubles as a message needs): small, for idle sockets."""

_TOO_LARGE = HTTPAnswer(431, "Request Header Fields Too Large\n")


class Dispatcher(Protocol):
    """What decides about a request head: the server (:class:`~pyfly_ws.native.server.NativeServer`)."""

    max_size: int
    """The largest frame picows reads."""

    def dispatch(self, head: HandshakeProtocol, request: RequestHead) -> None:
        """Start a session for a handshake, or answer ``request``."""


class HandshakeProtocol(asyncio.Protocol):
    """Reads a request head, then hands the connection to a session, or answers it over HTTP."""

    __slots__ = ("server", "transport", "buffer", "connection", "timer")

    def __init__(self, server: Dispatcher) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.connection: NativeConnection | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT, transport.abort)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        self.buffer = buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD:
                self.answer(_TOO_LARGE)
            return
        transport = self.transport
        assert transport is not None
        transport.pause_reading()  # nothing more is read until the server decides
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if end > MAX_HEAD:
            self.answer(_TOO_LARGE)
            return
        try:
            head = parse_head(buffer[:end])
        except BadRequest as exc:
            self.answer(HTTPAnswer(exc.status, exc.reason + "\n"))
            return
        self.server.dispatch(self, head)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.lost_before_accept()

    # What the server does with the connection ---------------------------------------------------

    def peer(self) -> tuple[str, int] | None:
        """The client's ``(host, port)``."""
        assert self.transport is not None
        name: Any = self.transport.get_extra_info("peername")
        return (str(name[0]), int(name[1])) if name else None

    def answer(self, answer: HTTPAnswer, *, body: bool = True) -> None:
        """Send ``answer`` and close the connection."""
        self.connection = None
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(response_bytes(answer, body=body))
            transport.close()

    def refuse(self, status: int, reason: str) -> None:
        """Refuse the WebSocket handshake with HTTP ``status``, ``reason`` as the body."""
        self.answer(HTTPAnswer(status, reason))

    def hand_over(self, connection: NativeConnection, response: WSUpgradeResponse) -> None:
        """Give the socket to picows with ``connection`` as its listener; picows checks the head and answers."""
        self.connection = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        answer = WSUpgradeResponseWithListener(response, connection)
        protocol = WSProtocol(
            None,
            None,
            False,  # the server side
            lambda request: answer,
            PicowsLog(connection),
            True,  # disconnect when the listener raises
            None,  # no handshake timeout: the head has arrived
            False,  # no pings of picows's own: the endpoint's limits decide on idle clients
            20.0,
            20.0,
            WSAutoPingStrategy.PING_WHEN_IDLE,
            True,  # answer pings
            self.server.max_size,
            None,
            READ_BUFFER,
        )
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        data = memoryview(self.buffer)
        self.buffer = b""
        while data:
            room = protocol.get_buffer(-1)
            size = min(len(room), len(data))
            room[:size] = data[:size]
            data = data[size:]
            protocol.buffer_updated(size)
        if not transport.is_closing():
            transport.resume_reading()
