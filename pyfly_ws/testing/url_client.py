"""``URLClient``: the same test sessions over a real server, with the ``websockets`` client.

``websockets`` is imported here only, when a ``URLClient`` is built, so the
core and the in-process client do not need it. It runs on asyncio only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import anyio

from ..datastructures import Headers
from ..exceptions import WebSocketDisconnect
from .asgi_client import HeadersArg, QueryArg, header_pairs, split_target
from .errors import HandshakeRefused
from .session import TestSession

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection
    from websockets.exceptions import ConnectionClosed

__all__ = ["URLClient", "URLSession"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _require_websockets() -> None:
    """Fail with the install command when the ``websockets`` client is missing."""
    try:
        import websockets.asyncio.client  # noqa: F401
    except ImportError as exc:
        raise ImportError('URLClient needs the websockets client: pip install "pyfly-ws[testing]"') from exc


class URLSession(TestSession):
    """A session over a real connection, a ``websockets`` ``ClientConnection``."""

    def __init__(self, connection: ClientConnection) -> None:
        response = connection.response
        headers = Headers(response.headers.raw_items()) if response is not None else Headers()
        super().__init__(connection.subprotocol, headers)
        self.connection = connection
        """The underlying ``websockets.asyncio.client.ClientConnection``."""

    def _peer_close(self) -> tuple[int, str] | None:
        from websockets.protocol import State

        received = self.connection.protocol.close_rcvd
        if received is not None:
            return received.code, received.reason
        return (1006, "") if self.connection.protocol.state is State.CLOSED else None

    def _gone_error(self, exc: ConnectionClosed) -> WebSocketDisconnect:
        return WebSocketDisconnect(*((exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else (1006, "")))

    async def _send_frame(self, data: str | bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self.connection.send(data)
        except ConnectionClosed as exc:
            raise self._gone_error(exc) from exc

    async def _receive_frame(self) -> str | bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            return await self.connection.recv()  # cancel-safe: no message is lost on a timeout
        except ConnectionClosed as exc:
            raise self._gone_error(exc) from exc

    async def _close(self, code: int, reason: str) -> None:
        await self.connection.close(code, reason)

    async def _abort(self) -> None:
        transport = self.connection.transport
        if transport is not None:
            transport.abort()
        with anyio.move_on_after(2):
            await self.connection.wait_closed()


class URLClient:
    """Opens test sessions to a running server at ``base_url``, e.g. ``"ws://127.0.0.1:8000"``.

    ``async with client.connect("/ws/echo") as ws:`` gives the same
    :class:`~pyfly_ws.testing.TestSession` API as the in-process
    :class:`~pyfly_ws.testing.ASGIClient`. Needs the ``websockets`` package
    (``pip install "pyfly-ws[testing]"``) and an asyncio event loop.
    """

    def __init__(self, base_url: str) -> None:
        _require_websockets()
        self.base_url = base_url.rstrip("/")

    async def __aenter__(self) -> URLClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def url(self, path: str, query: QueryArg = None) -> str:
        """The full URL of ``path`` with ``query`` (a raw string without ``?``, or a mapping to urlencode)."""
        path, query_string = split_target(path, query)
        return f"{self.base_url}/{path.lstrip('/')}" + (f"?{query_string}" if query_string else "")

    def connect(
        self,
        path: str,
        *,
        query: QueryArg = None,
        headers: HeadersArg = None,
        subprotocols: Sequence[str] | None = None,
    ) -> AbstractAsyncContextManager[TestSession]:
        """Open a WebSocket to ``path`` on the server: ``async with client.connect(path) as ws:``.

        Raises :class:`~pyfly_ws.testing.HandshakeRefused` with the response's
        status, headers and body if the server refuses the handshake.
        """
        return self._connect(self.url(path, query), header_pairs(headers), list(subprotocols or ()))

    @asynccontextmanager
    async def _connect(
        self, url: str, headers: list[tuple[str, str]], subprotocols: list[str]
    ) -> AsyncIterator[TestSession]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        options: dict[str, Any] = {"proxy": None} if urlsplit(url).hostname in _LOOPBACK else {}
        try:
            connection = await connect(
                url,
                subprotocols=cast(Any, subprotocols) or None,
                additional_headers=headers or None,
                max_size=None,
                open_timeout=10,
                close_timeout=2,
                **options,
            )
        except InvalidStatus as exc:
            response = exc.response
            refused = Headers(response.headers.raw_items())
            raise HandshakeRefused(response.status_code, refused, bytes(response.body or b"")) from exc
        session = URLSession(connection)
        try:
            yield session
        finally:
            with anyio.CancelScope(shield=True):
                await session.close()
