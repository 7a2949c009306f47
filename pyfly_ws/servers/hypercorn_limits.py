"""Hypercorn's WebSocket message limit, made to bound memory (for ``pyfly-ws run --server hypercorn``).

Hypercorn counts a message against ``websocket_max_message_size`` only after
it has buffered and inflated it, and nothing in its configuration changes that:

- it always offers per-message deflate, and wsproto inflates all the
  compressed bytes of one read (up to 64 KiB, which can inflate a
  thousandfold) at once;
- once over the limit it sends close 1009 but keeps buffering whatever the
  client still sends, until the connection ends.

:func:`bound_hypercorn` puts two small subclasses in the place of hypercorn's:
an extension that inflates at most one byte past the limit per message (the
server then closes with 1009) and a buffer that keeps nothing once over it.
Imported only for hypercorn: it needs hypercorn and wsproto.
"""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol

# What the subclasses below rely on; a release without them is refused at import (ImportError / AttributeError).
for _name in ("PerMessageDeflate", "WebsocketBuffer", "FrameTooLargeError"):
    getattr(ws_stream, _name)
for _name in ("_inbound_compressed", "_inbound_is_compressible", "_decompressor"):
    if _name not in PerMessageDeflate().__dict__:
        raise AttributeError(f"wsproto's PerMessageDeflate has no {_name}")

__all__ = ["BoundedBuffer", "BoundedDeflate", "bound_hypercorn"]


class BoundedDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate, inflating at most ``max_size + 1`` bytes of a message; the rest is dropped."""

    max_size: ClassVar[int] = 16 * 1024 * 1024
    """Bytes of one message that are inflated; one more tells the server's buffer the message is too big."""

    def __init__(self) -> None:
        super().__init__()
        self._inflated = 0

    def frame_inbound_payload_data(self, proto: FrameDecoder | FrameProtocol, data: bytes) -> bytes | CloseReason:
        if not self._inbound_compressed or not self._inbound_is_compressible or self._decompressor is None:
            return super().frame_inbound_payload_data(proto, data)
        room = self.max_size + 1 - self._inflated
        if room <= 0:
            return b""  # over the limit: the server is closing with 1009; inflate nothing more
        try:
            inflated = self._decompressor.decompress(bytes(data), room)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(inflated)
        return inflated

    def frame_inbound_complete(self, proto: FrameDecoder | FrameProtocol, fin: bool) -> bytes | CloseReason | None:
        if self._inflated <= self.max_size:
            result = super().frame_inbound_complete(proto, fin)  # the flush: what zlib still holds, a few bytes
            if isinstance(result, bytes):
                self._inflated += len(result)
        elif fin:  # the end of a message cut short: its stream is unusable, start afresh
            self._inbound_compressed = None
            self._decompressor = None
            result = None
        else:
            result = None
        if fin:
            self._inflated = 0
        return result


class BoundedBuffer(ws_stream.WebsocketBuffer):
    """Hypercorn's message buffer, which drops what it holds once over the limit and takes nothing more."""

    def extend(self, event: Any) -> None:
        if self.length > self.max_length:
            raise ws_stream.FrameTooLargeError()
        try:
            super().extend(event)
        except ws_stream.FrameTooLargeError:
            self.value = None  # the length stays over the limit until the message ends
            raise


def bound_hypercorn(max_size: int) -> None:
    """Make hypercorn, in this process, inflate and buffer at most about ``max_size`` bytes per message.

    Set hypercorn's ``websocket_max_message_size`` to the same ``max_size``.
    """

    class Deflate(BoundedDeflate):
        pass

    Deflate.max_size = max_size
    ws_stream.PerMessageDeflate = Deflate  # type: ignore[attr-defined,assignment]  # one per accepted connection
    ws_stream.WebsocketBuffer = BoundedBuffer  # type: ignore[misc]
