"""``CaseContext``: what a case gets: a client for its transport, a probe, and its token."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import anyio

from .http import HTTPReply, http_request
from .recorder import PROBE_PATH

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from pyfly_ws.testing import ASGIClient, TestSession, URLClient

    from .harness import Harness
    from .servers import ServerCapabilities

__all__ = ["CaseContext"]

T = TypeVar("T")


class CaseContext:
    """One run of one case on one transport."""

    def __init__(
        self,
        client: ASGIClient | URLClient,
        *,
        harness: Harness,
        transport: str,
        server: ServerCapabilities | None,
        portal: BlockingPortal | None = None,
        reference: ASGIClient | None = None,
    ) -> None:
        self.client = client
        """The test client for this transport (in-process or over a server)."""
        self.harness = harness
        """The adapter under test."""
        self.transport = transport
        """``inprocess``, ``inprocess-trio`` or a server configuration name."""
        self.server = server
        """The server's capabilities, or ``None`` in-process."""
        self.reference = reference
        """An in-process client of the same cases on the reference ``asgi`` adapter."""
        self.token = uuid.uuid4().hex
        """Identifies this run's events in the application's recorder."""
        self._portal = portal
        self._log_mark = 0

    def connect(
        self,
        path: str,
        *,
        query: str | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        subprotocols: Sequence[str] | None = None,
        client: ASGIClient | URLClient | None = None,
    ) -> AbstractAsyncContextManager[TestSession]:
        """Open a WebSocket to ``path``, tagged with this run's token (the ``t`` query parameter)."""
        if query is None or isinstance(query, Mapping):
            text = urlencode({**(query or {}), "t": self.token})
        else:
            text = f"{query}&t={self.token}" if query else f"t={self.token}"
        return (client or self.client).connect(path, query=text, headers=headers, subprotocols=subprotocols)

    async def _probe(self, request: dict[str, Any]) -> Any:
        async with self.client.connect(PROBE_PATH) as ws:
            await ws.send_json(request)
            return await ws.receive_json()

    async def start(self) -> None:
        """Mark the start of the run, so :meth:`logs` reports only what came after."""
        self._log_mark = int(await self._probe({"op": "log_count"}))

    async def events(self, token: str | None = None) -> list[Any]:
        """What this run's controllers recorded so far (or what was recorded under ``token``), in order."""
        return list(await self._probe({"op": "events", "token": token or self.token}))

    async def wait_events(self, count: int, within: float = 5.0) -> list[Any]:
        """Wait until at least ``count`` events were recorded; fail the case after ``within`` seconds."""
        with anyio.move_on_after(within):
            while True:
                events = await self.events()
                if len(events) >= count:
                    return events
                await anyio.sleep(0.02)
        raise AssertionError(f"expected {count} recorded events within {within}s, got {await self.events()!r}")

    async def logs(self, level: str | None = None) -> list[dict[str, Any]]:
        """``pyfly_ws`` log records since the run started (optionally of one level)."""
        records: list[dict[str, Any]] = await self._probe({"op": "logs", "since": self._log_mark})
        return [r for r in records if level is None or r["level"] == level]

    async def http(self, method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> HTTPReply:
        """Send a plain HTTP request (no WebSocket upgrade, no body) to ``path`` on this transport."""
        return await http_request(self.client, method, path, headers)

    def open(
        self, path: str, *, client: ASGIClient | URLClient | None = None, **options: Any
    ) -> AbstractContextManager[TestSession]:
        """:meth:`connect` for sync cases: a plain context manager whose session methods go through :meth:`call`."""
        if self._portal is None:
            raise RuntimeError("ctx.open() is only available to sync cases")
        return self._portal.wrap_async_context_manager(self.connect(path, client=client, **options))

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``func(*args)`` on the event loop; for sync cases (hypothesis drives them)."""
        if self._portal is None:
            raise RuntimeError("ctx.call() is only available to sync cases")
        return self._portal.call(func, *args)
