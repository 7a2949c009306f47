"""``TestSession``: the client side of one open WebSocket, the same for both test clients.

The typed helpers, JSON modes and timeouts are written here once, over four
transport primitives that :class:`~pyfly_ws.testing.ASGIClient` (in-process)
and :class:`~pyfly_ws.testing.URLClient` (over a real server) implement.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Literal, TypeVar

import anyio

from ..datastructures import Headers
from ..exceptions import WebSocketDisconnect

__all__ = ["TestSession"]

T = TypeVar("T")
JSONMode = Literal["text", "binary"]


def _describe(message: str | bytes) -> str:
    """Name a message for an error: its kind and its first characters."""
    kind = "text" if isinstance(message, str) else "binary"
    shown = repr(message if len(message) <= 80 else message[:80])
    return f"a {kind} message {shown}" + (f" ({len(message)} long)" if len(message) > 80 else "")


class TestSession:
    """An open client-side WebSocket, returned by ``connect()`` of either test client.

    Every ``receive_*`` raises :class:`~pyfly_ws.WebSocketDisconnect` with the
    server's close code and reason once the server closed (again on every later
    call), after any messages it sent before closing have been received. A
    timeout raises ``TimeoutError`` saying what was awaited. ``async with``
    closes the session with 1000 on the way out if it is still open.
    """

    __test__ = False  # the name starts with "Test": keep pytest from collecting it

    subprotocol: str | None
    """The subprotocol the server chose, or ``None``."""
    response_headers: Headers
    """The headers of the server's accept response."""
    app_exception: BaseException | None = None
    """In-process only: the exception the application raised after accepting, if it did (else ``None``)."""

    def __init__(self, subprotocol: str | None, response_headers: Headers) -> None:
        self.subprotocol = subprotocol
        self.response_headers = response_headers

    # -- what a transport implements ------------------------------------------------

    def _peer_close(self) -> tuple[int, str] | None:
        """The server's close ``(code, reason)`` as known so far; ``(1006, "")`` if the connection dropped."""
        raise NotImplementedError

    async def _send_frame(self, data: str | bytes) -> None:
        """Send one message; raise ``WebSocketDisconnect`` if the connection is closed."""
        raise NotImplementedError

    async def _receive_frame(self) -> str | bytes:
        """The next message; ``WebSocketDisconnect`` once the server closed and nothing is left. Cancel-safe."""
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason``, unless already closed."""
        raise NotImplementedError

    async def _abort(self) -> None:
        """Drop the connection without a close frame."""
        raise NotImplementedError

    # -- the public API -----------------------------------------------------------

    @property
    def close_code(self) -> int | None:
        """The close code the server sent (``None`` while open; 1006 if the connection dropped without one)."""
        closed = self._peer_close()
        return None if closed is None else closed[0]

    @property
    def close_reason(self) -> str | None:
        """The close reason the server sent (``None`` while open)."""
        closed = self._peer_close()
        return None if closed is None else closed[1]

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        if not isinstance(data, str):
            raise TypeError(f"send_text() takes str, not {type(data).__name__}")
        await self._send_frame(data)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
        await self._send_frame(bytes(data))

    async def send(self, data: str | bytes) -> None:
        """Send a text message for ``str``, a binary message for ``bytes``."""
        if isinstance(data, str):
            await self.send_text(data)
        else:
            await self.send_bytes(data)

    async def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        """Send ``data`` as compact JSON: a text message, or UTF-8 in a binary one with ``mode="binary"``."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            await self.send_text(text)
        elif mode == "binary":
            await self.send_bytes(text.encode("utf-8"))
        else:
            raise ValueError(f"mode must be 'text' or 'binary', not {mode!r}")

    async def receive(self, timeout: float = 5.0) -> str | bytes:  # noqa: ASYNC109
        """The next message: ``str`` for text, ``bytes`` for binary."""
        return await self._within(timeout, "a message from the server", self._receive_frame)

    async def receive_text(self, timeout: float = 5.0) -> str:  # noqa: ASYNC109
        """The next message, which must be text (``TypeError`` naming what came otherwise)."""
        message = await self.receive(timeout)
        if not isinstance(message, str):
            raise TypeError(f"expected a text message, got {_describe(message)}")
        return message

    async def receive_bytes(self, timeout: float = 5.0) -> bytes:  # noqa: ASYNC109
        """The next message, which must be binary (``TypeError`` naming what came otherwise)."""
        message = await self.receive(timeout)
        if not isinstance(message, bytes):
            raise TypeError(f"expected a binary message, got {_describe(message)}")
        return message

    async def receive_json(self, mode: JSONMode = "text", timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """The next message parsed as JSON: from a text message, or a UTF-8 binary one with ``mode="binary"``."""
        if mode == "text":
            return json.loads(await self.receive_text(timeout))
        if mode == "binary":
            return json.loads((await self.receive_bytes(timeout)).decode("utf-8"))
        raise ValueError(f"mode must be 'text' or 'binary', not {mode!r}")

    async def receive_nothing(self, timeout: float = 0.1) -> None:  # noqa: ASYNC109
        """Assert that no message arrives within ``timeout`` seconds.

        Raises ``AssertionError`` naming the message if one arrives, and
        :class:`~pyfly_ws.WebSocketDisconnect` if the server closes meanwhile.
        """
        try:
            message = await self.receive(timeout)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message within {timeout:g} s, got {_describe(message)}")

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int, str]:  # noqa: ASYNC109
        """Wait for the server's close, discarding any messages still queued; its ``(code, reason)``."""

        async def drain() -> tuple[int, str]:
            while True:
                try:
                    await self._receive_frame()
                except WebSocketDisconnect as exc:
                    return exc.code, exc.reason

        return await self._within(timeout, "the server to close the connection", drain)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client side with ``code`` and ``reason``; does nothing if already closed."""
        await self._close(code, reason)

    async def abort(self) -> None:
        """Drop the connection without a close frame: the server sees code 1006."""
        await self._abort()

    async def __aenter__(self) -> TestSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self._close(1000, "")

    async def _within(self, timeout: float, what: str, wait: Callable[[], Awaitable[T]]) -> T:  # noqa: ASYNC109
        """``await wait()``, raising ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
        with anyio.move_on_after(timeout):
            return await wait()
        raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")

    def __repr__(self) -> str:
        closed = self._peer_close()
        state = "open" if closed is None else f"closed {closed[0]}"
        return f"<{type(self).__name__} {state} subprotocol={self.subprotocol!r}>"
