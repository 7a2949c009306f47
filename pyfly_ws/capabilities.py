"""``Capabilities``: the optional behaviours an adapter declares, for the conformance kit.

Every flag is opt-in. The conformance suite runs the cases that need a flag
only when the adapter sets it, and skips them otherwise, naming the adapter
and the flag; the core behaviour every adapter must have needs no flag.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Capabilities"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter supports beyond the core contract."""

    subprotocols: bool = False
    """``session.accept(subprotocol=...)`` reaches the client as the negotiated subprotocol."""
    accept_headers: bool = False
    """``session.accept(headers=...)`` adds headers the client sees in the handshake response."""
    close_reasons: bool = False
    """The reason given to ``session.close(code, reason)`` reaches the client."""
    peer_close_codes: bool = False
    """The handler's ``WebSocketDisconnect`` carries the close code and reason the client sent."""
    http_denial: bool = False
    """A handshake can be refused with an HTTP status other than 403 (where the server allows it)."""
    pages: bool = False
    """``create_app(endpoints, pages=[...])`` serves each :class:`~pyfly_ws.adapter.Page` at its path."""
    trio: bool = False
    """The adapter's applications run under trio as well as asyncio."""

    @classmethod
    def flags(cls) -> tuple[str, ...]:
        """The names of every flag."""
        return tuple(field.name for field in fields(cls))

    def lacking(self, *required: str) -> list[str]:
        """The flags among ``required`` that this adapter does not set; unknown names raise ``ValueError``."""
        unknown = [name for name in required if name not in self.flags()]
        if unknown:
            raise ValueError(f"unknown capability {unknown[0]!r}; known: {', '.join(self.flags())}")
        return [name for name in required if not getattr(self, name)]
