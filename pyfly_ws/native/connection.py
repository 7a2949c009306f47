"""``NativeConnection``: a :class:`~pyfly_ws.Connection` straight on picows, with no ASGI in between.

picows parses and writes frames (in Cython) and answers pings; this class is
its listener and turns frames into the contract's messages: it joins
fragmented messages, checks the UTF-8 of text, refuses what RFC 6455 forbids
and picows lets through (reserved bits, a continuation out of place), answers
the peer's close frame, and bounds what it holds for a handler that does not
read (reading pauses past :data:`INBOX_HIGH` messages). It is a
:class:`~pyfly_ws.adapter.WritesNow`: a message is handed to picows without a
coroutine, unless the socket's write buffer is over its high-water mark, when
the send waits; so a client that stops reading slows its own sends, never the
process.

Until ``accept``, the connection belongs to the handshake reader
(:class:`~pyfly_ws.native.protocol.HandshakeProtocol`); accepting hands the
socket to picows, which answers 101 with the chosen subprotocol and headers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeResponse

from ..close_codes import CloseCode
from ..exceptions import WebSocketDisconnect
from ..session.connection import Handshake, RawHeaders

__all__ = ["CLOSE_TIMEOUT", "INBOX_HIGH", "INBOX_LOW", "Head", "NativeConnection"]

INBOX_HIGH = 16
"""Messages held for a handler that does not read before the socket stops being read."""
INBOX_LOW = 4
"""Messages held below which reading resumes."""
CLOSE_TIMEOUT = 5.0
"""Seconds to wait for the peer's close frame after sending ours, before dropping the connection."""

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE
_PROTOCOL_ERROR = 1002


class Head(Protocol):
    """Where a connection belongs until accept: a :class:`~pyfly_ws.native.protocol.HandshakeProtocol`."""

    def hand_over(self, connection: NativeConnection, response: WSUpgradeResponse) -> None:
        """Give the socket to picows, ``connection`` as its listener; picows answers with ``response``."""

    def refuse(self, status: int, reason: str) -> None:
        """Refuse the handshake with HTTP ``status``."""


_DECODE_COPIED = 4096
"""Text of this many bytes or more is copied out of picows's buffer before it is decoded: measured faster
(16 KiB echoes, ``python -m bench.headline``: about 6 % more round trips); below it, decoding in place is."""


def _text(frame: WSFrame) -> str:
    """A text frame's payload as ``str``; raises ``UnicodeDecodeError`` for bad UTF-8."""
    if frame.payload_size < _DECODE_COPIED:
        return frame.get_payload_as_utf8_text()
    return frame.get_payload_as_bytes().decode()


def _reserved(frame: WSFrame) -> bool:
    """Whether a reserved bit is set: no extension is negotiated, so any is a protocol error."""
    return bool(frame.rsv1 or frame.rsv2 or frame.rsv3)


def _sendable(code: int) -> bool:
    """Whether a close frame may carry ``code`` (RFC 6455, 7.4): the defined codes, and 3000-4999."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class NativeConnection(WSListener):
    """One WebSocket connection on picows: the handshake reader's until accept, then picows's listener."""

    def __init__(self, head: Head, handshake: Handshake, max_size: int) -> None:
        self.handshake = handshake
        self._head: Head | None = head
        self._loop = asyncio.get_running_loop()
        self._max_size = max_size
        self._ws: WSTransport | None = None
        self._inbox: deque[str | bytes] = deque()
        self._waiter: asyncio.Future[str | bytes | None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused = False
        # (code, reason) once the peer is gone, or the connection failed: receive and send raise it.
        self._gone: tuple[int, str] | None = None
        self._parts: list[bytes] | None = None  # a fragmented message being joined
        self._parts_text = False
        self._parts_size = 0
        self._close_timer: asyncio.TimerHandle | None = None
        self._closing = False  # our close frame is sent: messages that still come are dropped

    # The Connection contract -------------------------------------------------------------------

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        head = self._head
        if self._gone is not None or head is None:
            raise WebSocketDisconnect(*(self._gone or (CloseCode.ABNORMAL, "")))
        extra = [("Sec-WebSocket-Protocol", subprotocol)] if subprotocol else []
        extra += [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
        self._head = None
        head.hand_over(self, WSUpgradeResponse.create_101_response(extra))
        if self._ws is None:  # picows refused the handshake's headers itself (400) and dropped the client
            self._gone = (CloseCode.ABNORMAL, "")
            raise WebSocketDisconnect(*self._gone)

    async def receive(self) -> str | bytes:
        inbox = self._inbox
        if inbox:
            message = inbox.popleft()
            if self._paused and len(inbox) <= INBOX_LOW:
                self._paused = False
                if self._ws is not None:
                    self._ws.underlying_transport.resume_reading()
            return message
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        waiter: asyncio.Future[str | bytes | None] = self._loop.create_future()
        self._waiter = waiter
        try:
            woken = await waiter
        finally:
            self._waiter = None
        if woken is None:  # woken because the peer is gone: no exception kept in the future, no cycle
            raise WebSocketDisconnect(*(self._gone or (CloseCode.ABNORMAL, "")))
        return woken

    def send_now(self, data: str | bytes) -> bool:
        """Hand ``data`` to picows at once (it writes what the socket takes and buffers the rest).

        ``False`` while the write buffer is over its high-water mark, or once the
        peer is gone: the session then awaits :meth:`send`, which waits or raises.
        """
        ws = self._ws
        if self._writable is not None or self._gone is not None or ws is None:
            return False
        ws.send(_TEXT if type(data) is str else _BINARY, data)
        return True

    async def send(self, data: str | bytes) -> None:
        ws = self._ws
        if self._gone is not None or ws is None:
            raise WebSocketDisconnect(*(self._gone or (CloseCode.ABNORMAL, "")))
        ws.send(_TEXT if type(data) is str else _BINARY, data)
        if self._writable is not None:
            await self._writable
            if self._gone is not None:
                raise WebSocketDisconnect(*self._gone)

    async def close(self, code: int, reason: str) -> None:
        head = self._head
        if head is not None:  # before accept: refuse the handshake
            self._head = None
            self._gone = (code, reason)
            head.refuse(403, "Forbidden\n")
            return
        ws = self._ws
        if ws is None or self._gone is not None:
            return
        self._close_now(ws, code, reason.encode("utf-8"))

    async def deny(self, status: int, reason: str) -> None:
        """Refuse the handshake with HTTP ``status`` and ``reason`` as the body."""
        head = self._head
        if head is None:
            return
        self._head = None
        self._gone = (CloseCode.ABNORMAL, "")
        head.refuse(status, reason)

    # Before accept: the handshake reader reports the client gone ---------------------------------

    def lost_before_accept(self) -> None:
        """The client left while the handshake was being decided."""
        self._head = None
        self._gone_now(CloseCode.ABNORMAL, "")

    # picows's listener ---------------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._ws = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT and frame.fin and self._parts is None and not self._closing and not _reserved(frame):
            try:  # the common case first: a whole text message
                message: str | bytes = _text(frame)
            except UnicodeDecodeError:
                self._fail(transport, CloseCode.INVALID_PAYLOAD, "text is not valid UTF-8")
                return
            self._deliver(message)
            return
        if self._closing and kind is not _CLOSE:
            return
        if _reserved(frame):
            self._fail(transport, _PROTOCOL_ERROR, "reserved bits set without an extension")
        elif kind is _TEXT or kind is _BINARY:
            if self._parts is not None:
                self._fail(transport, _PROTOCOL_ERROR, "a new message began before the last one ended")
            elif frame.fin:
                if kind is _BINARY:
                    self._deliver(frame.get_payload_as_bytes())
                else:
                    try:
                        self._deliver(_text(frame))
                    except UnicodeDecodeError:
                        self._fail(transport, CloseCode.INVALID_PAYLOAD, "text is not valid UTF-8")
            else:
                self._parts = [frame.get_payload_as_bytes()]
                self._parts_text = kind is _TEXT
                self._parts_size = frame.payload_size
        elif kind is _CONTINUATION:
            self._join(transport, frame)
        elif kind is _CLOSE:
            self._peer_closed(transport, frame)
        # PING is answered by picows itself; a PONG needs nothing.

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        self._gone_now(CloseCode.ABNORMAL, "")

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # What the frames mean ------------------------------------------------------------------------

    def _deliver(self, message: str | bytes) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(message)
            return
        inbox = self._inbox
        inbox.append(message)
        if len(inbox) >= INBOX_HIGH and not self._paused and self._ws is not None:
            self._paused = True
            self._ws.underlying_transport.pause_reading()

    def _join(self, transport: WSTransport, frame: WSFrame) -> None:
        parts = self._parts
        if parts is None:
            self._fail(transport, _PROTOCOL_ERROR, "a continuation frame without a message to continue")
            return
        self._parts_size += frame.payload_size
        if self._parts_size > self._max_size:
            self._fail(transport, CloseCode.MESSAGE_TOO_BIG, "message too big")
            return
        parts.append(frame.get_payload_as_bytes())
        if not frame.fin:
            return
        self._parts = None
        data = b"".join(parts)
        if not self._parts_text:
            self._deliver(data)
            return
        try:
            self._deliver(data.decode("utf-8"))
        except UnicodeDecodeError:
            self._fail(transport, CloseCode.INVALID_PAYLOAD, "text is not valid UTF-8")

    def _peer_closed(self, transport: WSTransport, frame: WSFrame) -> None:
        """The peer's close frame (its code checked by picows): answer it, and end the connection."""
        code: int
        if frame.payload_size == 0:  # answered with 1000: picows's close frames always carry a code
            code, reason, answer = CloseCode.NO_STATUS, "", WSCloseCode.OK
        else:
            code, reason = frame.get_close_code().value, frame.get_close_reason()
            if not _sendable(code):  # picows lets 0, 1006 and codes past 4999 through
                self._fail(transport, _PROTOCOL_ERROR, f"close code {code} may not be sent")
                return
            answer = frame.get_close_code()
        if not transport.is_close_frame_sent:
            transport.send_close(answer)
        transport.disconnect()
        self._gone_now(code, reason)

    def refused_frame(self, code: int, reason: str) -> None:
        """picows refused a frame with ``code`` and is about to close with it (it logs that first, and tells us here).

        A peer that had sent its close frame already is answered with its own
        code instead (picows checks the next frame before delivering the one
        before it, so the close may not have reached :meth:`on_ws_frame`): what
        follows a close frame is to be ignored, not refused (RFC 6455, 1.4).
        """
        ws = self._ws
        shook = ws.close_handshake if ws is not None else None
        if ws is not None and shook is not None and shook.recv is not None and not ws.is_close_frame_sent:
            received = shook.recv.code.value
            ws.send_close(WSCloseCode(received) if _sendable(received) else WSCloseCode.OK)
            self._gone_now(received or CloseCode.NO_STATUS, shook.recv.reason)
        else:
            self._gone_now(code, reason)

    def _fail(self, transport: WSTransport, code: int, reason: str) -> None:
        """The peer broke the protocol: close with ``code`` and drop the connection; the handler sees ``code``."""
        self._parts = None
        if self._gone is None:
            self._close_now(transport, code, reason.encode("utf-8"))
            transport.disconnect()  # failing the connection: no wait for the peer's answer (RFC 6455, 7.1.7)
            self._gone_now(code, reason)

    def _close_now(self, transport: WSTransport, code: int, reason: bytes) -> None:
        """Send our close frame; the connection drops at the peer's answer, or after :data:`CLOSE_TIMEOUT`."""
        if transport.is_close_frame_sent or transport.is_disconnected:
            return
        transport.send_close(WSCloseCode(code), reason)
        self._closing = True
        self._inbox.clear()
        if self._paused:  # read on, so the peer's answer is seen
            self._paused = False
            transport.underlying_transport.resume_reading()
        if transport.close_handshake is not None and transport.close_handshake.recv is not None:
            transport.disconnect()
        elif self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, transport.disconnect)

    def _gone_now(self, code: int, reason: str) -> None:
        if self._gone is None:
            self._gone = (code, reason)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)
