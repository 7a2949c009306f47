"""Codecs: how a WebSocket frame becomes data and data a frame. JSON text frames are the default."""

from __future__ import annotations

import json
import json.encoder
import json.scanner
import re
from collections.abc import Callable
from typing import Any, cast

from ..mapping.messages import CodecError

__all__ = ["JSON", "JSONCodec"]


_space = cast("Callable[[str, int], re.Match[str]]", re.compile(r"[ \t\n\r]*").match)
"""What ``JSONDecoder.decode`` skips before and after the document (``json.decoder.WHITESPACE``); it always
matches, if only the empty string."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _compact_encoder() -> Callable[[Any], str]:
    """``JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode``, written out.

    That method makes the C encoder anew on every call, through ``iterencode`` and a closure the C
    encoder never uses: about 85 bytecode instructions a frame. This makes the same C encoder with
    the same arguments (a fresh ``markers`` dict each time, as ``iterencode`` does) and nothing
    else. Without the C accelerator, or where it takes other arguments, it is the method itself.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    default, escape, join = encoder.default, json.encoder.encode_basestring, "".join

    def encode(data: Any) -> str:
        return join(make({}, default, escape, None, ":", ",", False, False, False)(data, 0))

    probe = {"a": [1, 2.5, None, True, "\u00e9\n"], "b": {}}
    try:
        same = encode(probe) == encoder.encode(probe)
    except Exception:
        same = False
    return encode if same else encoder.encode


class JSONCodec:
    """Compact JSON text frames (UTF-8, ``ensure_ascii=False``); bytes holding UTF-8 JSON are decoded too.

    NaN and Infinity are refused both ways: on decode as a :class:`CodecError`, on encode as a ``ValueError``.
    """

    binary = False
    name = "json"

    def __init__(self) -> None:
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        self._scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]  # as JSONDecoder.__init__ does
        self.encode = _compact_encoder()

    def decode(self, frame: str | bytes) -> Any:
        # JSONDecoder.decode and its raw_decode, written out: two calls fewer per frame (bench.opcodes).
        try:
            text = frame if isinstance(frame, str) else frame.decode()
            try:
                data, end = self._scan(text, _space(text, 0).end())
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            end = _space(text, end).end()
            if end != len(text):
                raise json.JSONDecodeError("Extra data", text, end)
            return data
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise CodecError(f"invalid JSON: {exc}") from None

    def __repr__(self) -> str:
        return "JSONCodec()"


JSON = JSONCodec()
"""The default codec."""
