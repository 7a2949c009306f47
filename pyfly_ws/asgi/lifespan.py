"""Driving an application's ASGI lifespan in-process, tolerant like uvicorn's ``lifespan="auto"``.

The test client (:class:`~pyfly_ws.testing.ASGIClient`) and the native transport both run it.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
from anyio.lowlevel import checkpoint

from ..asgi_types import ASGIApp, Message

__all__ = ["Lifespan"]


class Lifespan:
    """One ``lifespan`` scope: startup, then shutdown, over anyio memory streams.

    An application that raises or returns before answering ``lifespan.startup``
    does not support the lifespan protocol; that is tolerated, as uvicorn's
    ``"auto"`` mode does. ``state`` is the scope's state dict, which the
    application may fill at startup and every connection scope gets a copy of.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        """False once the application turned out not to speak the lifespan protocol."""
        self.done = anyio.Event()
        """Set once the application's lifespan call returned, raised or was cancelled."""
        self.error: Exception | None = None
        self._to_app, self._from_client = anyio.create_memory_object_stream[Message](math.inf)
        self._replies: list[Message] = []
        self._replied = anyio.Event()

    async def run(self) -> None:
        """Call the application with the lifespan scope (a task of the client's task group)."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._from_client.receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self.release()
            self.done.set()
            self._wake()

    def release(self) -> None:
        """Close the memory streams, even if the application task never got to run."""
        self._to_app.close()
        self._from_client.close()

    async def startup(self, timeout: float) -> None:  # noqa: ASYNC109
        """Send ``lifespan.startup``; ``RuntimeError`` with the app's message if it fails."""
        reply = await self._ask("lifespan.startup", timeout)
        if reply is None:
            self.supported = False  # raised or returned without answering: no lifespan support
        elif reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"application startup failed: {reply.get('message') or 'no message'}")

    async def shutdown(self, timeout: float) -> None:  # noqa: ASYNC109
        """Send ``lifespan.shutdown`` and wait for the app to return; ``RuntimeError`` if it fails."""
        if not self.supported or self.done.is_set():
            return
        reply = await self._ask("lifespan.shutdown", timeout)
        with anyio.move_on_after(timeout):
            await self.done.wait()
        if reply is not None and reply["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"application shutdown failed: {reply.get('message') or 'no message'}")
        if self.error is not None:
            raise RuntimeError(f"application lifespan raised at shutdown: {self.error!r}") from self.error

    async def _ask(self, kind: str, timeout: float) -> Message | None:  # noqa: ASYNC109
        """Send ``kind`` and wait for its ``.complete`` or ``.failed`` reply; ``None`` if the app ended instead."""
        wanted = (f"{kind}.complete", f"{kind}.failed")
        self._to_app.send_nowait({"type": kind})
        with anyio.move_on_after(timeout):
            while True:
                for reply in self._replies:
                    if reply["type"] in wanted:
                        return reply
                if self.done.is_set():
                    return None
                await self._replied.wait()
        raise TimeoutError(f"the application did not answer {kind!r} within {timeout:g} s")

    async def _send(self, message: Message) -> None:
        await checkpoint()
        if message["type"] not in (
            "lifespan.startup.complete",
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            raise RuntimeError(f"unexpected ASGI lifespan message {message['type']!r}")
        self._replies.append(dict(message))
        self._wake()

    def _wake(self) -> None:
        self._replied.set()
        self._replied = anyio.Event()
