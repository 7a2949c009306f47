"""What the hub needs of a registry to close a user's sessions (``Hub.disconnect_user``), and the check of a close."""

from __future__ import annotations

from typing import Protocol

from ..close_codes import check_reason

__all__ = ["Signing", "check_close"]


class Signing(Protocol):
    """A registry whose sessions can be found by identity: :class:`~pyfly_ws.SessionRegistry`."""

    def disconnect(self, identity: str, code: int, reason: str) -> int:
        """Close the sessions of ``identity`` with ``code`` and ``reason``; how many there were."""
        ...


def check_close(code: object, reason: object) -> None:
    """``ValueError`` unless ``code`` is a close code an application may send and ``reason`` fits a close frame."""
    if isinstance(code, bool) or not isinstance(code, int) or not (code in (1000, 1001, 1008) or 3000 <= code <= 4999):
        raise ValueError(f"the close code is 1000, 1001, 1008 or 3000-4999, got {code!r}")
    if not isinstance(reason, str):
        raise ValueError(f"a close reason is a string, got {reason!r}")
    check_reason(reason)
