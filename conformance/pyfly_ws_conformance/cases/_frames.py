"""Helpers of the message-level cases: the frames a case sends, and the exact frames it expects back."""

from __future__ import annotations

import json
from typing import Any

from pyfly_ws import WebSocketDisconnect, message_mapping
from pyfly_ws.testing import TestSession

__all__ = [
    "PING",
    "PONG",
    "Pings",
    "canonical",
    "expect",
    "expect_error",
    "expect_protocol_close",
    "expect_reply",
    "receive",
    "send",
    "still_open",
]

PING = {"type": "ping", "id": "ping"}
"""A message every gateway of the cases answers: proves the session is open and answering."""
PONG = {"type": "reply", "id": "ping", "data": "pong"}


class Pings:
    """A base of the cases' gateways: ``ping`` is answered ``"pong"``."""

    @message_mapping("ping")
    def ping(self) -> str:
        return "pong"


def canonical(value: Any) -> str:
    """``value`` as sorted JSON: equal only if equal in JSON terms (``1`` is not ``true``, nor ``1.0``)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


async def send(ws: TestSession, frame: Any) -> None:
    """Send ``frame``: a ``str`` as it is, anything else as compact JSON, in a text frame."""
    await ws.send_text(frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":")))


async def receive(ws: TestSession, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
    """The next frame: a text frame holding a JSON object."""
    text = await ws.receive_text(timeout)
    frame = json.loads(text)
    assert isinstance(frame, dict), f"expected a JSON object frame, got {text!r}"
    return frame


async def expect(ws: TestSession, expected: dict[str, Any], after: Any = None) -> dict[str, Any]:
    """The next frame is exactly ``expected`` (key for key, JSON type for type)."""
    frame = await receive(ws)
    context = f" after sending {after!r}" if after is not None else ""
    assert canonical(frame) == canonical(expected), f"expected {expected}{context}, got {frame}"
    return frame


async def expect_reply(ws: TestSession, id: Any) -> Any:
    """The next frame is a reply to ``id`` (exactly ``type``, ``id`` and ``data``); its data."""
    frame = await receive(ws)
    assert set(frame) == {"type", "id", "data"}, f"expected a reply to {id!r}, got {frame}"
    assert frame["type"] == "reply", f"expected a reply to {id!r}, got {frame}"
    assert canonical(frame["id"]) == canonical(id), f"expected a reply to {id!r}, got {frame}"
    return frame["data"]


async def expect_error(
    ws: TestSession,
    id: Any,
    code: str,
    *,
    message: str | None = None,
    errors: list[Any] | None = None,
    after: Any = None,
) -> dict[str, Any]:
    """The next frame is an error frame for ``id`` with ``code``; its message is text (``message`` if given)."""
    frame = await receive(ws)
    context = f" after sending {after!r}" if after is not None else ""
    listed = errors is not None or code == "invalid_payload"  # invalid_payload always lists its errors
    keys = {"type", "id", "code", "message"} | ({"errors"} if listed else set())
    assert set(frame) == keys, f"expected an error frame with keys {sorted(keys)}{context}, got {frame}"
    assert frame["type"] == "error", f"expected an error frame{context}, got {frame}"
    assert canonical(frame["id"]) == canonical(id), f"expected id {id!r}{context}, got {frame}"
    assert frame["code"] == code, f"expected code {code!r}{context}, got {frame}"
    assert isinstance(frame["message"], str), f"the message is text{context}: {frame}"
    if message is not None:
        assert frame["message"] == message, f"expected message {message!r}{context}, got {frame}"
    if listed:
        assert isinstance(frame["errors"], list) and frame["errors"], f"a list of errors{context}: {frame}"
    if errors is not None:
        assert canonical(frame["errors"]) == canonical(errors), f"expected errors {errors}{context}, got {frame}"
    return frame


async def still_open(ws: TestSession) -> None:
    """The session is open and answering: a ``ping`` gets its ``pong``."""
    await send(ws, PING)
    await expect(ws, PONG, after=PING)


async def expect_protocol_close(ws: TestSession, code: int, frames: int, bad: Any) -> None:
    """Send ``bad`` ``frames`` times: each is answered with an error frame, and then the server closes with ``code``."""
    for _ in range(frames):
        await send(ws, bad)
    for index in range(frames):
        frame = await receive(ws)
        assert frame.get("type") == "error", f"error frame {index + 1} of {frames}: got {frame}"
    try:
        extra = await ws.receive()
    except WebSocketDisconnect as exc:
        assert exc.code == code, f"after {frames} protocol errors expected close {code}, got {exc.code}"
    else:
        raise AssertionError(f"after {frames} protocol errors expected close {code}, got the frame {extra!r}")
