"""The one rule for a close reason's length (``close_codes.MAX_REASON_BYTES``), wherever a reason is made or given."""

from __future__ import annotations

import pytest

from pyfly_ws import MessageTypeError, SessionRegistry, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.close_codes import MAX_REASON_BYTES, check_reason, trim_reason
from pyfly_ws.testing import ASGIClient


def test_a_reason_that_fits_is_kept_and_a_longer_one_is_cut_to_fit() -> None:
    assert trim_reason("é" * 61) == "é" * 61  # 122 bytes
    cut = trim_reason("é" * 100)
    assert len(cut.encode("utf-8")) <= MAX_REASON_BYTES and cut.endswith("...") and cut.startswith("é" * 60)
    assert check_reason("x" * MAX_REASON_BYTES) == "x" * MAX_REASON_BYTES
    with pytest.raises(ValueError, match=f"at most {MAX_REASON_BYTES} bytes"):
        check_reason("x" * (MAX_REASON_BYTES + 1))


def test_the_registry_and_the_session_apply_the_same_rule() -> None:
    with pytest.raises(ValueError, match=f"drain_reason.*at most {MAX_REASON_BYTES} bytes"):
        SessionRegistry(drain_reason="x" * (MAX_REASON_BYTES + 1))
    SessionRegistry(drain_reason="x" * MAX_REASON_BYTES)


@rest_controller
class Verbose:
    @websocket_mapping("/verbose")
    async def verbose(self, session: WebSocketSession) -> None:
        await session.accept()
        raise MessageTypeError("a long explanation " * 20)


@pytest.mark.anyio
async def test_an_uncaught_protocol_error_closes_with_its_message_cut_to_a_reason() -> None:
    async with ASGIClient(create_app(Verbose)) as client, client.connect("/verbose") as ws:
        await ws.wait_closed(timeout=2)
        assert ws.close_code == MessageTypeError.close_code
        assert ws.close_reason == trim_reason("a long explanation " * 20)
        assert len(ws.close_reason.encode("utf-8")) == MAX_REASON_BYTES
