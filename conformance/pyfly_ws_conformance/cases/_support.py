"""Helpers shared by the case modules."""

from __future__ import annotations

from typing import Any

from pyfly_ws import WebSocketSession
from pyfly_ws.testing import HandshakeRefused

from ..context import CaseContext
from ..recorder import RECORDER, token_of

__all__ = ["expect_refused", "record"]


def record(session: WebSocketSession, event: Any) -> None:
    """Record ``event`` for the case run that opened ``session``."""
    RECORDER.record(token_of(session), event)


async def expect_refused(ctx: CaseContext, path: str, status: int = 403, **options: Any) -> HandshakeRefused:
    """Assert that the handshake to ``path`` is refused with ``status``."""
    try:
        async with ctx.connect(path, **options) as ws:
            raise AssertionError(
                f"handshake to {path} was accepted (subprotocol {ws.subprotocol!r}), expected {status}"
            )
    except HandshakeRefused as refused:
        assert refused.status == status, f"{path}: expected HTTP {status}, got {refused.status}"
        return refused
