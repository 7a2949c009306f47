"""Codecs: JSON text frames (the default) and MessagePack binary frames, round trips and refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyfly_ws.mapping.messages import Codec, CodecError
from pyfly_ws.messages.codecs import JSON, JSONCodec
from pyfly_ws.messages.msgpack import MessagePackCodec

CODECS: list[Codec] = [JSON, MessagePackCodec()]  # both satisfy the Codec protocol (mypy checks it here)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


def test_json_frames_are_compact_text() -> None:
    assert (JSON.binary, JSON.name) == (False, "json")
    frame = JSON.encode({"type": "chat.send", "id": "c1", "data": {"text": "héllo ✓", "n": [1, 2.5, None, True]}})
    assert frame == '{"type":"chat.send","id":"c1","data":{"text":"héllo ✓","n":[1,2.5,null,true]}}'
    assert JSON.decode(frame) == {
        "type": "chat.send",
        "id": "c1",
        "data": {"text": "héllo ✓", "n": [1, 2.5, None, True]},
    }


def test_json_decodes_utf8_bytes() -> None:
    assert JSON.decode('{"text":"héllo"}'.encode()) == {"text": "héllo"}
    assert JSONCodec().decode(b" [1] ") == [1]


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "{",
        "{'type': 'x'}",
        '{"type": "x"} trailing',
        "NaN",
        '{"n": Infinity}',
        "[-Infinity]",
        b"\xff\xfe",
        b'{"text": "\xc3"}',
        "[" * 100_000,  # deeper than the parser recurses
        "1" * 5000,  # more digits than Python converts to an int
    ],
)
def test_json_refuses_what_is_not_json(frame: str | bytes) -> None:
    with pytest.raises(CodecError, match="invalid JSON"):
        JSON.decode(frame)


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(CodecError, ValueError)


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_json_will_not_write_nan_or_infinity(number: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        JSON.encode({"n": number})


@settings(max_examples=150, deadline=None, database=None)
@given(JSON_VALUES)
def test_json_round_trips(value: Any) -> None:
    frame = JSON.encode(value)
    assert isinstance(frame, str)
    assert JSON.decode(frame) == value
    assert JSON.decode(frame.encode()) == value


MSGPACK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(max_size=16),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)
"""What MessagePack holds: 64-bit integers, floats with infinities (NaN is no equal of itself), bytes."""


@settings(max_examples=150, deadline=None, database=None)
@given(MSGPACK_VALUES)
def test_msgpack_round_trips(value: Any) -> None:
    codec = CODECS[1]
    frame = codec.encode(value)
    assert isinstance(frame, bytes)
    assert codec.decode(frame) == value


def test_msgpack_integers_are_64_bit() -> None:
    with pytest.raises(OverflowError):
        MessagePackCodec().encode(2**64)


def test_msgpack_frames_are_binary() -> None:
    codec = MessagePackCodec()
    assert (codec.binary, codec.name) == (True, "msgpack")
    data = {"type": "file.put", "id": "c1", "data": {"name": "a.bin", "content": b"\x00\xff"}}
    frame = codec.encode(data)
    assert frame == msgspec.msgpack.encode(data)
    assert codec.decode(frame) == data


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (b"", "truncated"),
        (b"\xc1", "malformed"),
        (b"\x92\x01", "truncated"),
        (b"\x91" * 100_000 + b"\x01", "recursion"),
        (msgspec.msgpack.encode(msgspec.msgpack.Ext(5, b"xy")), "extension type 5"),
        ('{"type": "x"}', "a text frame"),
    ],
)
def test_msgpack_refuses_what_is_not_msgpack(frame: str | bytes, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        MessagePackCodec().decode(frame)


WITHOUT_MSGSPEC = textwrap.dedent(
    """
    import sys
    sys.modules["msgspec"] = None  # as if it were not installed: importing it fails
    from pyfly_ws.exceptions import MissingDependencyError
    from pyfly_ws.messages.msgpack import MessagePackCodec  # the module itself imports without msgspec
    try:
        MessagePackCodec()
    except MissingDependencyError as exc:
        print(exc)
    """
)


def test_msgpack_without_msgspec_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_MSGSPEC], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "pyfly-ws[msgpack]"' in result.stdout
