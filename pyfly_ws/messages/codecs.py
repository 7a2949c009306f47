"""Codecs: how a WebSocket frame becomes data and data a frame. JSON text frames are the default."""

from __future__ import annotations

import json
from typing import Any

from ..mapping.messages import CodecError

__all__ = ["JSON", "JSONCodec"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


class JSONCodec:
    """Compact JSON text frames (UTF-8, ``ensure_ascii=False``); bytes holding UTF-8 JSON are decoded too.

    NaN and Infinity are refused both ways: on decode as a :class:`CodecError`, on encode as a ``ValueError``.
    """

    binary = False
    name = "json"

    def __init__(self) -> None:
        self._decode = json.JSONDecoder(parse_constant=_reject_constant).decode
        self.encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode

    def decode(self, frame: str | bytes) -> Any:
        try:
            return self._decode(frame if isinstance(frame, str) else frame.decode())
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise CodecError(f"invalid JSON: {exc}") from None

    def __repr__(self) -> str:
        return "JSONCodec()"


JSON = JSONCodec()
"""The default codec."""
