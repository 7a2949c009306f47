"""The ASGI type aliases: a scope, an event (message), the ``receive`` and ``send`` callables, an application.

A leaf: every layer that speaks ASGI (the reference adapter, the session's direct path, the test
clients) imports them from here; :mod:`pyfly_ws.adapter` re-exports them for adapters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
