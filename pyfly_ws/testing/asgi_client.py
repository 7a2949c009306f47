"""``ASGIClient``: test an ASGI application in-process, without a server or sockets."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlencode

import anyio
from anyio.abc import TaskGroup

from ..asgi.lifespan import Lifespan
from ..asgi_types import ASGIApp, Scope
from .asgi_session import ASGISession
from .session import TestSession

__all__ = ["ASGIClient", "HeadersArg", "QueryArg"]

QueryArg = str | Mapping[str, str] | None
"""A query string as given (without ``?``), or a mapping to urlencode."""
HeadersArg = Mapping[str, str] | Sequence[tuple[str, str]] | None
"""Extra handshake headers, as a mapping or as ``(name, value)`` pairs (repeats allowed)."""


def split_target(path: str, query: QueryArg) -> tuple[str, str]:
    """The path and the raw query string of a request target; a ``?`` in ``path`` is honoured too."""
    path, _, in_path = path.partition("?")
    given = query if isinstance(query, str) or query is None else urlencode(list(query.items()))
    return path, "&".join(part for part in (in_path, given) if part)


def header_pairs(headers: HeadersArg) -> list[tuple[str, str]]:
    """``headers`` as a list of ``(name, value)`` pairs."""
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, Mapping) else [(name, value) for name, value in headers]


class ASGIClient:
    """Speaks ASGI directly to ``app``, in the current event loop (asyncio or trio).

    Use it as ``async with ASGIClient(app) as client:``, then
    ``async with client.connect("/ws/echo") as ws:``. Entering runs the
    lifespan startup when ``lifespan`` is true (an app without lifespan support
    is tolerated; a failed startup raises ``RuntimeError`` with the app's
    message); leaving closes every open session with 1000, runs the shutdown
    and cancels any application task still running after a bounded wait.
    Each application call is a task of a task group the client owns. An app
    that returns or raises after accepting without closing is seen as a
    dropped connection (1006), as behind uvicorn; what it raised is kept as
    ``session.app_exception``.
    """

    timeout: float = 10.0
    """Seconds to wait for the app to answer a handshake or a lifespan event before ``TimeoutError``."""
    buffer: int = 256
    """Messages from the app a session holds unread before the app's ``send`` waits, like a TCP window."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        lifespan: bool = True,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        host: str = "testserver",
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.client = client
        self.host = host
        self._task_group: TaskGroup | None = None
        self._lifespan: Lifespan | None = None
        self._shut_down = False
        self._sessions: list[ASGISession] = []

    async def __aenter__(self) -> ASGIClient:
        if self._task_group is not None:
            raise RuntimeError("this ASGIClient is already running")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        if self.lifespan:
            self._lifespan = Lifespan(self.app)
            task_group.start_soon(self._lifespan.run)
            try:
                await self._lifespan.startup(self.timeout)
            except BaseException:
                await self._stop(shutdown=False)
                raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop(shutdown=exc is None)

    async def shutdown(self) -> None:
        """Run the lifespan shutdown now, with sessions still open: what a server does when told to stop."""
        if self._lifespan is None or self._shut_down:
            raise RuntimeError("no lifespan to shut down: enter the client with lifespan=True first")
        self._shut_down = True
        await self._lifespan.shutdown(self.timeout)

    def connect(
        self,
        path: str,
        *,
        query: QueryArg = None,
        headers: HeadersArg = None,
        subprotocols: Sequence[str] | None = None,
    ) -> AbstractAsyncContextManager[TestSession]:
        """Open a WebSocket to ``path``: ``async with client.connect(path) as ws:``.

        ``path`` may be percent-encoded; ``query`` is a raw query string
        (without ``?``) or a mapping to urlencode. Raises
        :class:`~pyfly_ws.testing.HandshakeRefused` if the app refuses.
        """
        if self._task_group is None:
            raise RuntimeError("enter the client first: `async with ASGIClient(app) as client:`")
        return self._connect(path, query, header_pairs(headers), list(subprotocols or ()))

    @asynccontextmanager
    async def _connect(
        self, path: str, query: QueryArg, headers: list[tuple[str, str]], subprotocols: list[str]
    ) -> AsyncIterator[TestSession]:
        assert self._task_group is not None
        key = base64.b64encode(os.urandom(16))
        session = ASGISession(self._scope(path, query, headers, subprotocols, key), key, self.buffer)
        self._sessions.append(session)
        self._task_group.start_soon(session.run, self.app)
        try:
            await session.handshake(self.timeout)
            yield session
        finally:
            with anyio.CancelScope(shield=True):
                await session.finish()
            if session.app_done.is_set():
                self._sessions.remove(session)

    def _scope(
        self, target: str, query: QueryArg, headers: list[tuple[str, str]], subprotocols: list[str], key: bytes
    ) -> Scope:
        """The ASGI ``websocket`` scope of one handshake, as uvicorn builds it."""
        path, query_string = split_target(target, query)
        given = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        defaults = [
            (b"host", self.host.encode("latin-1")),
            (b"connection", b"upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", key),
        ]
        if subprotocols:
            defaults.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("latin-1")))
        overridden = {name for name, _ in given}
        state: dict[str, Any] = dict(self._lifespan.state) if self._lifespan is not None else {}
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": (self.host, 80),
            "client": self.client,
            "root_path": "",
            "path": unquote(path, encoding="utf-8"),
            "raw_path": path.encode("utf-8"),
            "query_string": query_string.encode("utf-8"),
            "headers": [pair for pair in defaults if pair[0] not in overridden] + given,
            "subprotocols": subprotocols,
            "state": state,
            "extensions": {"websocket.http.response": {}},
        }

    async def _stop(self, *, shutdown: bool) -> None:
        """Close open sessions, run the lifespan shutdown, then cancel what is still running."""
        task_group, self._task_group = self._task_group, None
        assert task_group is not None
        failure: BaseException | None = None
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as closing:
                for session in self._sessions:
                    closing.start_soon(session.finish)
            if self._lifespan is not None and shutdown and not self._shut_down:
                try:
                    await self._lifespan.shutdown(self.timeout)
                except (RuntimeError, TimeoutError) as exc:
                    failure = exc
        task_group.cancel_scope.cancel()
        await task_group.__aexit__(None, None, None)
        for session in self._sessions:
            session.release()
        self._sessions.clear()
        if self._lifespan is not None:
            self._lifespan.release()
        if failure is not None:
            raise failure
