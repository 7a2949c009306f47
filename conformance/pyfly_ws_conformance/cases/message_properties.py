"""Properties of message-level endpoints (hypothesis drives them): any frame gets exactly its answer.

A model of the wire format predicts, for any text frame, the one frame the
server answers with (or that it answers nothing), and when a row of
protocol errors closes the session; the cases compare the server with it.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pyfly_ws import WebSocketDisconnect, message_mapping, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._frames import canonical
from .properties import SETTINGS, json_values

LIMIT = 10
"""The endpoint's ``max_protocol_errors`` (the default)."""
PROTOCOL_ERRORS = frozenset({"invalid_frame", "invalid_envelope", "unknown_type"})


@rest_controller
@request_mapping("/msg")
@websocket_mapping("/echo-any")
class EchoAnyGateway:
    """One type: ``echo``, whose reply is its data, whatever it is."""

    @message_mapping("echo")
    def echo(self, data: Any) -> Any:
        return data


def _reject(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def expected(text: str) -> tuple[dict[str, Any] | None, str]:
    """The frame answering ``text`` (``None``: no answer) and what the message was: ``valid``, ``ignored`` or a code."""
    try:
        value = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        return {"type": "error", "id": None, "code": "invalid_frame"}, "invalid_frame"
    if type(value) is not dict:
        return {"type": "error", "id": None, "code": "invalid_envelope"}, "invalid_envelope"
    mid = value.get("id")
    if mid is not None and type(mid) not in (str, int):
        return {"type": "error", "id": None, "code": "invalid_envelope"}, "invalid_envelope"
    kind = value.get("type")
    if type(kind) is not str:
        return {"type": "error", "id": mid, "code": "invalid_envelope"}, "invalid_envelope"
    if kind == "echo":
        return ({"type": "reply", "id": mid, "data": value.get("data")} if mid is not None else None), "valid"
    if kind in ("reply", "error"):
        return None, "ignored"  # answers no pending server request
    return {"type": "error", "id": mid, "code": "unknown_type"}, "unknown_type"


def _same(frame: dict[str, Any], want: dict[str, Any]) -> bool:
    """``frame`` is ``want``; for an error, its message is any text and nothing else is there."""
    if want["type"] != "error":
        return canonical(frame) == canonical(want)
    rest = {key: value for key, value in frame.items() if key != "message"}
    return isinstance(frame.get("message"), str) and canonical(rest) == canonical(want)


scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
types = st.sampled_from(["echo", "nope", "Echo"]) | st.text(max_size=6) | scalars | st.lists(st.integers(), max_size=2)
ids = (
    st.text(max_size=6) | scalars | st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=2), scalars)
)
envelopes = st.fixed_dictionaries({}, optional={"type": types, "id": ids, "data": json_values}).map(json.dumps)
frames = st.one_of(st.text(max_size=30), json_values.map(json.dumps), envelopes, envelopes, envelopes)
"""Text frames: any text (rarely JSON), any JSON value, and (most often) envelopes with any type, id and data."""


@case("properties.message_frames_answered")
def message_frames_answered(ctx: CaseContext) -> None:
    """Any text frames: each gets exactly the answer the wire format says, and only the limit of errors closes."""
    codes = ctx.server is None or ctx.server.protocol_close_codes

    @SETTINGS
    @given(st.lists(frames, min_size=1, max_size=14))
    def check(texts: list[str]) -> None:
        with ctx.open("/msg/echo-any") as ws:
            errors = 0
            for text in texts:
                ctx.call(ws.send_text, text)
                want, what = expected(text)
                if want is not None:
                    frame = json.loads(ctx.call(ws.receive_text))
                    assert _same(frame, want), f"sent {text!r}: expected {want}, got {frame}"
                if what in PROTOCOL_ERRORS:
                    errors += 1
                elif what == "valid":
                    errors = 0
                if errors == LIMIT:
                    if not codes:
                        return  # the server cannot send the close code (protocol.* cases are skipped there too)
                    try:
                        extra = ctx.call(ws.receive_text)
                    except WebSocketDisconnect as exc:
                        close = 1007 if what == "invalid_frame" else 1008
                        assert exc.code == close, f"expected close {close}, got {exc.code}"
                        return
                    raise AssertionError(f"{LIMIT} protocol errors in a row, yet the session answered {extra!r}")
            sentinel = {"type": "echo", "id": "sentinel", "data": len(texts)}
            ctx.call(ws.send_text, json.dumps(sentinel))
            frame = json.loads(ctx.call(ws.receive_text))
            reply = {"type": "reply", "id": "sentinel", "data": len(texts)}
            assert canonical(frame) == canonical(reply), f"after {texts!r}: expected {reply}, got {frame}"

    check()


@case("properties.message_echo_roundtrip")
def message_echo_roundtrip(ctx: CaseContext) -> None:
    """Any string or integer id and any JSON data come back unchanged in the reply of a handler taking ``Any``."""
    with ctx.open("/msg/echo-any") as ws:

        @SETTINGS
        @given(st.text(max_size=20) | st.integers(-(2**63), 2**63), json_values)
        def check(mid: str | int, data: Any) -> None:
            ctx.call(ws.send_text, json.dumps({"type": "echo", "id": mid, "data": data}))
            frame = json.loads(ctx.call(ws.receive_text))
            reply = {"type": "reply", "id": mid, "data": data}
            assert canonical(frame) == canonical(reply), f"expected {reply}, got {frame}"

        check()
