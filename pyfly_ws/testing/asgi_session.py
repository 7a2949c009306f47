"""``ASGISession``: one in-process WebSocket, both ends: the ASGI server side the app talks to, and the client side.

It mirrors uvicorn: the app first receives ``websocket.connect``; a close
before accept refuses the handshake with HTTP 403 and a denial response is
passed on as it is; an app that returns or raises without accepting gets a
500. After accept, an app that returns or raises without closing drops the
connection, which the client sees as 1006 (uvicorn closes the socket without
a close frame). Once the client left, the app's ``send`` raises an
``OSError`` and its ``receive`` returns ``websocket.disconnect`` again.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections import deque
from typing import Any

import anyio
from anyio.lowlevel import checkpoint

from ..asgi_types import ASGIApp, Message, Scope
from ..datastructures import Headers
from ..exceptions import WebSocketDisconnect
from .errors import ClientDisconnected, HandshakeRefused
from .session import TestSession

__all__ = ["ASGISession"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
APP_EXIT_TIMEOUT = 5.0
"""Seconds a client-side close waits for the application to return."""


def accept_key(key: bytes) -> str:
    """The ``sec-websocket-accept`` value answering ``sec-websocket-key`` (RFC 6455, 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode("ascii")


class ASGISession(TestSession):
    """An in-process session: runs the app for one ``websocket`` scope and speaks ASGI to it.

    ``app_exception`` holds what the application raised after accepting, if it did.
    """

    def __init__(self, scope: Scope, key: bytes, buffer: int = 256) -> None:
        super().__init__(None, Headers())
        self._buffer = buffer
        self._read = anyio.Event()
        self.scope = scope
        self._key = key
        self._phase = "connecting"  # connecting -> responding -> refused | accepted -> closed
        self._denial: tuple[int, Headers, list[bytes]] | None = None
        self._refusal: HandshakeRefused | None = None
        self._closed: tuple[int, str] | None = None
        self._client_gone = False
        self._finishing = False
        self._inbox: deque[str | bytes] = deque()
        self._changed = anyio.Event()
        self._handshake_done = anyio.Event()
        self.app_done = anyio.Event()
        """Set once the application returned, raised or was cancelled."""
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._final: Message = {"type": "websocket.disconnect", "code": 1006, "reason": ""}
        self._to_app.send_nowait({"type": "websocket.connect"})

    # -- the application side --------------------------------------------------

    async def run(self, app: ASGIApp) -> None:
        """Run ``app`` for this session's scope until it returns (a task of the client's task group)."""
        failure: Exception | None = None
        try:
            await app(self.scope, self._app_receive, self._app_send)
        except Exception as exc:
            failure = exc
        finally:
            self._app_ended(failure)
            self.release()
            self.app_done.set()

    async def _app_receive(self) -> Message:
        try:
            return await self._app_inbox.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            await checkpoint()
            return dict(self._final)

    async def _app_send(self, message: Message) -> None:
        await checkpoint()
        kind = message["type"]
        if self._client_gone or self._phase in ("closed", "refused"):
            raise ClientDisconnected(f"cannot send {kind!r}: the WebSocket client is gone")
        if self._phase == "connecting" and kind == "websocket.accept":
            self._accept(message)
        elif self._phase == "connecting" and kind == "websocket.close":
            self._refuse(HandshakeRefused(403))
        elif self._phase == "connecting" and kind == "websocket.http.response.start":
            self._phase = "responding"
            self._denial = (int(message["status"]), Headers.from_raw(message.get("headers", ())), [])
        elif self._phase == "responding" and kind == "websocket.http.response.body" and self._denial:
            status, headers, chunks = self._denial
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self._refuse(HandshakeRefused(status, headers, b"".join(chunks)))
        elif self._phase == "accepted" and kind == "websocket.send":
            while len(self._inbox) >= self._buffer and self._phase == "accepted" and not self._client_gone:
                await self._read.wait()  # the client is not reading: the app waits, as on a full TCP window
            if self._phase != "accepted" or self._client_gone:
                raise ClientDisconnected(f"cannot send {kind!r}: the WebSocket client is gone")
            text = message.get("text")
            self._inbox.append(text if text is not None else bytes(message.get("bytes") or b""))
            self._notify()
        elif self._phase == "accepted" and kind == "websocket.close":
            code, reason = int(message.get("code") or 1000), message.get("reason") or ""
            self._set_closed(code, reason)
            self._tell_app({"type": "websocket.disconnect", "code": code, "reason": reason})  # the client's echo
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} while the WebSocket is {self._phase}")

    def _accept(self, message: Message) -> None:
        self._phase = "accepted"
        self.subprotocol = message.get("subprotocol")
        headers = [("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-accept", accept_key(self._key))]
        if self.subprotocol is not None:
            headers.append(("sec-websocket-protocol", self.subprotocol))
        extra = Headers.from_raw(message.get("headers", ()))
        self.response_headers = Headers(headers + extra.multi_items())
        self._handshake_done.set()

    def _refuse(self, refusal: HandshakeRefused) -> None:
        self._phase = "refused"
        self._refusal = refusal
        self._tell_app(dict(self._final))
        self._handshake_done.set()

    def _app_ended(self, failure: Exception | None) -> None:
        if self._phase in ("connecting", "responding"):
            refusal = HandshakeRefused(500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
            refusal.__cause__ = failure
            self._refuse(refusal)
        else:
            self.app_exception = failure if self._phase in ("accepted", "closed") else None
            self._set_closed(1006, "")  # uvicorn drops the connection without a close frame

    def _tell_app(self, final: Message) -> None:
        """Deliver ``final`` to the app, then keep answering every later ``receive`` with it."""
        self._final = final
        if not self._client_gone:
            self._client_gone = True
            self._to_app.send_nowait(dict(final))
            self._to_app.close()

    # -- the client side ------------------------------------------------------

    async def handshake(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the app accepts; ``HandshakeRefused`` if it refuses, ``TimeoutError`` if it never answers."""
        await self._within(timeout, "the application to accept or refuse the handshake", self._handshake_done.wait)
        if self._refusal is not None:
            raise self._refusal

    async def finish(self) -> None:
        """Close with 1000 if still open, then give the application a bounded time to return (once)."""
        if self._finishing:
            return
        self._finishing = True
        if not await self._leave(1000, "", {"type": "websocket.disconnect", "code": 1000, "reason": ""}):
            with anyio.move_on_after(APP_EXIT_TIMEOUT):
                await self.app_done.wait()

    def release(self) -> None:
        """Close the memory streams, even if the application task never got to run."""
        self._to_app.close()
        self._app_inbox.close()

    def _set_closed(self, code: int, reason: str) -> None:
        if self._closed is None:
            self._phase = "closed"
            self._closed = (code, reason)
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
        self._read.set()
        self._read = anyio.Event()

    def _peer_close(self) -> tuple[int, str] | None:
        return self._closed

    async def _send_frame(self, data: str | bytes) -> None:
        await checkpoint()
        if self._closed is not None or self._client_gone:
            raise WebSocketDisconnect(*(self._closed or (1006, "")))
        key = "text" if isinstance(data, str) else "bytes"
        self._to_app.send_nowait({"type": "websocket.receive", key: data})

    async def _receive_frame(self) -> str | bytes:
        await checkpoint()
        while True:
            if self._inbox:
                message = self._inbox.popleft()
                self._read.set()
                self._read = anyio.Event()
                return message
            if self._closed is not None:
                raise WebSocketDisconnect(*self._closed)
            await self._changed.wait()

    async def _close(self, code: int, reason: str) -> None:
        await self._leave(code, reason, {"type": "websocket.disconnect", "code": code, "reason": reason})

    async def _abort(self) -> None:
        await self._leave(1006, "", {"type": "websocket.disconnect", "code": 1006, "reason": ""})

    async def _leave(self, code: int, reason: str, message: dict[str, Any]) -> bool:
        """Leave an open session and wait (bounded) for the app to return; ``False`` if not open."""
        await checkpoint()
        if self._phase in ("connecting", "responding"):  # gave up waiting for the handshake
            self._tell_app({"type": "websocket.disconnect", "code": 1006, "reason": ""})
        if self._closed is not None or self._phase != "accepted":
            return False
        self._set_closed(code, reason)  # a close is echoed as it is; an abort is seen as 1006
        self._tell_app(message)
        with anyio.move_on_after(APP_EXIT_TIMEOUT):
            await self.app_done.wait()
        return True
