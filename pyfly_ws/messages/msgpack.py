"""MessagePack binary frames, through msgspec (the ``msgpack`` extra)."""

from __future__ import annotations

from typing import Any

from ..exceptions import MissingDependencyError
from ..mapping.messages import CodecError

__all__ = ["MessagePackCodec"]


def _refuse_extension(code: int, data: memoryview) -> Any:
    raise CodecError(f"invalid MessagePack: extension type {code} is not supported")


class MessagePackCodec:
    """MessagePack binary frames. Maps, arrays, strings, numbers, booleans, nil and bin (as bytes) decode
    to plain Python; timestamps to ``datetime``; other extension types are refused."""

    binary = True
    name = "msgpack"

    def __init__(self) -> None:
        try:
            import msgspec
        except ImportError as exc:
            raise MissingDependencyError(
                'MessagePack frames need msgspec, which is not installed: pip install "pyfly-ws[msgpack]"'
            ) from exc
        self._decode = msgspec.msgpack.Decoder(ext_hook=_refuse_extension).decode
        self._errors = (msgspec.DecodeError, RecursionError)
        self.encode = msgspec.msgpack.Encoder().encode

    def decode(self, frame: str | bytes) -> Any:
        if isinstance(frame, str):
            raise CodecError("invalid MessagePack: a text frame, where MessagePack frames are binary")
        try:
            return self._decode(frame)
        except self._errors as exc:
            raise CodecError(f"invalid MessagePack: {exc}") from None

    def __repr__(self) -> str:
        return "MessagePackCodec()"
