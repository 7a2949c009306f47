"""``ASGIConnection``: the reference :class:`~pyfly_ws.Connection`, over plain ASGI.

Adapters whose framework hands over the raw ASGI ``receive`` and ``send``
(Litestar's socket does) subclass it and name the extra exceptions by which
their framework reports a vanished peer in :attr:`ASGIConnection.peer_gone_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..asgi_types import Receive, Scope, Send
from ..close_codes import CloseCode
from ..exceptions import WebSocketDisconnect
from ..session.connection import Handshake, RawHeaders

__all__ = ["ASGIConnection"]


class ASGIConnection:
    """One ASGI ``websocket`` connection, spoken to directly through ``receive`` and ``send``.

    It is a :class:`~pyfly_ws.adapter.DirectEvents`: the session reads and
    writes its ASGI events itself, without the extra call through
    :meth:`receive` and :meth:`send` (one per message each way), using
    :attr:`asgi_receive`, :attr:`asgi_send`, :attr:`peer_gone_errors`,
    :meth:`message_of`, :meth:`gone_with` and :meth:`gone_error`. A subclass
    that overrides :meth:`receive`, :meth:`send` or :meth:`message_of` is
    spoken to through them instead (:attr:`direct_events` is then false), so
    no override is bypassed.
    """

    __slots__ = ("handshake", "asgi_receive", "asgi_send", "_connected", "_gone", "_scope")

    direct_events: ClassVar[bool] = True
    """The session reads and writes this connection's ASGI events itself (see above)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "direct_events" not in cls.__dict__:  # a subclass may still say so itself
            cls.direct_events = (
                cls.receive is ASGIConnection.receive
                and cls.send is ASGIConnection.send
                and cls.message_of is ASGIConnection.message_of
            )

    peer_gone_errors: ClassVar[tuple[type[Exception], ...]] = (OSError,)
    """Exceptions from ``receive``/``send`` that mean the client is gone (ASGI servers raise an ``OSError``)."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.handshake = Handshake.from_scope(scope)
        self.asgi_receive = receive  # the ASGI callables, public for the session's direct path
        self.asgi_send = send
        self._connected = False
        # (code, reason) once the peer is gone. Not the exception itself: its traceback would hold
        # this connection's frames, and every connection would end as cyclic garbage for the collector.
        self._gone: tuple[int, str] | None = None
        self._scope = scope

    @property
    def scope(self) -> Scope:
        """The connection's ASGI scope, as the server gave it."""
        return self._scope

    @property
    def gone(self) -> tuple[int, str] | None:
        """The peer's close code and reason once it is gone (1006 without a close frame), else ``None``."""
        return self._gone

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        try:
            if not self._connected:  # _await_connect(), written out: once per connection, one frame fewer
                message = await self.asgi_receive()
                if message["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(*self.gone_with(message))
                self._connected = True
            await self.asgi_send(
                {"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers) if headers else []}
            )
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc

    async def receive(self) -> str | bytes:
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        try:
            event = await self.asgi_receive()
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc
        return self.message_of(event)

    def message_of(self, event: Mapping[str, Any]) -> str | bytes:
        """The message an ASGI receive ``event`` carries; a disconnect raises :class:`WebSocketDisconnect`."""
        kind = event["type"]
        if kind == "websocket.receive":
            text = event.get("text")
            if text is not None:
                return text  # type: ignore[no-any-return]
            return event.get("bytes") or b""
        if kind == "websocket.disconnect":
            raise WebSocketDisconnect(*self.gone_with(event))
        raise RuntimeError(f"unexpected ASGI message {kind!r} on a WebSocket")

    async def send(self, data: str | bytes) -> None:
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        try:
            if type(data) is str:
                await self.asgi_send({"type": "websocket.send", "text": data})
            else:
                await self.asgi_send({"type": "websocket.send", "bytes": data})
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc

    async def close(self, code: int, reason: str) -> None:
        if self._gone is not None:
            return
        try:
            await self._await_connect()
            # "reason" is optional in ASGI; daphne drops a close that carries one with a code of 1001-1014.
            await self.asgi_send(
                {"type": "websocket.close", "code": code, "reason": reason}
                if reason
                else {"type": "websocket.close", "code": code}
            )
        except WebSocketDisconnect:
            pass
        except self.peer_gone_errors:
            pass

    async def deny(self, status: int, reason: str) -> None:
        """Refuse the handshake with an HTTP ``status`` (and ``reason`` as the body) where the server can.

        Servers without the ASGI denial extension get a close before accept,
        which they answer with 403.
        """
        if "websocket.http.response" not in (self._scope.get("extensions") or {}):
            await self.close(1008, "")
            return
        body = reason.encode("utf-8")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await self._await_connect()
        await self._send_or_gone({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await self._send_or_gone({"type": "websocket.http.response.body", "body": body})

    async def _await_connect(self) -> None:
        """Read the ``websocket.connect`` event that opens every ASGI WebSocket, once."""
        if self._connected:
            return
        try:
            message = await self.asgi_receive()
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(*self.gone_with(message))
        self._connected = True

    async def _send_or_gone(self, message: dict[str, Any]) -> None:
        try:
            await self.asgi_send(message)
        except self.peer_gone_errors as exc:
            raise self.gone_error() from exc

    def gone_with(self, event: Mapping[str, Any]) -> tuple[int, str]:
        """Remember the ``websocket.disconnect`` event ``message``: the peer's close code and reason."""
        self._gone = (event.get("code", CloseCode.NO_STATUS), event.get("reason") or "")
        return self._gone

    def gone_error(self) -> WebSocketDisconnect:
        """Remember that the peer is gone without a close frame (1006), and the error that says so."""
        self._gone = (CloseCode.ABNORMAL, "")
        return WebSocketDisconnect(*self._gone)
