"""``WebSocketSession``: the one session API, written once over any :class:`Connection`.

The class holds the public API; what runs for every message (receiving,
sending, the limits, the close frame) is its base, :class:`~pyfly_ws.session.wire.Wire`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Literal, Protocol, cast

from ..close_codes import CloseCode, check_reason, trim_reason
from ..datastructures import Headers, QueryParams
from ..exceptions import InvalidPayloadError, WebSocketDisconnect, WebSocketStateError
from ..mapping.auth import InvalidToken, Principal
from ..mapping.guards import Reject
from ..mapping.limits import DEFAULT_LIMITS, Limits
from ..tasks import asyncio_task_getter
from .connection import Connection, RawHeaders
from .credentials import Credentials, verified
from .messaging import DEFAULT_REQUEST_TIMEOUT, Messenger
from .supervision import Supervision, log_refusal
from .tracing import SessionTrace
from .wire import (
    _ACCEPTED,
    _CLOSED,
    _CONNECTING,
    SessionState,
    Wire,
    activity,
    closed_by,
    learn_ways,
    ways,
)

__all__ = [
    "JSONMode",
    "Registry",
    "Serving",
    "SessionState",
    "WebSocketSession",
    "attach_credentials",
    "attach_messenger",
    "credentials_of",
    "messenger_of",
    "sign_in",
    "trace_of",
]

JSONMode = Literal["text", "binary"]

_NO_PARAMS: dict[str, Any] = {}  # shared by sessions without path parameters until one asks for its own
_RESERVED_CODES = frozenset({1004, 1005, 1006, 1015})


class Registry(Protocol):
    """The live sessions of the application serving a session, as :attr:`WebSocketSession.registry` shows them.

    :class:`~pyfly_ws.SessionRegistry` is the implementation (declared here so
    that the session, a lower layer, does not import the lifecycle).
    """

    @property
    def draining(self) -> bool:
        """Whether the whole application drains."""
        ...

    def __len__(self) -> int: ...

    def refuses(self, path: str) -> bool:
        """Whether a new handshake to the endpoint mapped at ``path`` is refused because of a drain."""
        ...

    def count(self, path: str | None = None) -> int:
        """Open sessions of the endpoint mapped at ``path``, or of all."""
        ...

    def counts(self) -> dict[str, int]:
        """Open sessions per endpoint path."""
        ...

    def sessions(self, path: str | None = None) -> Iterator[WebSocketSession]:
        """The open sessions (of one endpoint path, or of all)."""
        ...

    def sessions_of(self, identity: str) -> list[WebSocketSession]:
        """The open sessions that speak for ``identity``."""
        ...

    async def drain(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
        *,
        reason: str | None = None,
        path: str | None = None,
    ) -> int:
        """Refuse new handshakes, close every session with 1001, wait for the handlers."""
        ...

    def reopen(self) -> None:
        """Accept handshakes again after a drain."""
        ...


class Serving(Supervision, Protocol):
    """What runs a session beside its handler, as the whole session uses it: with the application's registry."""

    @property
    def registry(self) -> Registry:
        """The live-session registry of the application serving the session."""
        ...


class WebSocketSession(Wire):
    """A WebSocket conversation, the same on every adapter.

    Handlers receive one as their only argument. Properties describe the
    handshake; coroutines accept, exchange messages and close.
    """

    # _messenger is set only for sessions of a message-level endpoint (attach_messenger): never in __init__.
    __slots__ = (
        "_handshake",
        "_path_params",
        "_headers",
        "_query",
        "_user_state",
        "_credentials",
        "_messenger",
        "__weakref__",
    )
    _messenger: Messenger

    def __init__(
        self,
        connection: Connection,
        path_params: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        supervisor: Serving | None = None,
    ) -> None:
        # The wire's fields, then the session's own (see Wire: one __init__ per connection).
        self._connection = connection
        self._state = _CONNECTING
        self._close_code = None
        self._close_reason = ""
        self._peer_gone = False
        self._was_accepted = False
        self._limits = limits
        self._supervisor = supervisor
        self._outbox = None  # made when a message first has to wait, or is posted (Wire._outbox_made)
        self._writing_since = None
        way = ways.get(type(connection))
        if way is None:
            way = learn_ways(connection)
        self._direct = connection if way[0] else None  # type: ignore[assignment]
        self._now = connection if way[1] else None  # type: ignore[assignment]
        self._timed, self._big, self._tokens = limits.session_start
        self._last_in = 0.0
        self._heard = False
        self._frame_due = False
        self._task_of = asyncio_task_getter()
        self._receiver = None
        self._withdrawn = False
        self._resume = None
        self._finalizers = None  # made by the first at_finish()
        self._handshake = connection.handshake
        self._path_params = dict(path_params) if path_params else _NO_PARAMS
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._user_state: dict[str, Any] | None = None  # made when first asked for
        self._credentials: Credentials | None = None  # set by the lifecycle for an endpoint with an authenticator

    def __repr__(self) -> str:
        return f"<WebSocketSession {self.path} {self._state.value}>"

    # -- handshake facts -------------------------------------------------

    @property
    def path_params(self) -> dict[str, Any]:
        """Path parameters, converted by type: ``{id:int}`` gives an ``int``."""
        if self._path_params is _NO_PARAMS:
            self._path_params = {}  # a dict of its own, made when first asked for
        return self._path_params

    @property
    def query_params(self) -> QueryParams:
        """Query parameters (read-only; ``getlist()`` for repeated keys)."""
        if self._query is None:
            self._query = QueryParams.from_query_string(self._handshake.query_string)
        return self._query

    @property
    def headers(self) -> Headers:
        """Handshake headers (read-only, case-insensitive; ``getlist()`` for repeats)."""
        if self._headers is None:
            self._headers = Headers.from_raw(self._handshake.headers)
        return self._headers

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)``, or ``None`` when the server does not say."""
        return self._handshake.client

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """The subprotocols the client requested, in its order of preference."""
        return self._handshake.subprotocols

    @property
    def state(self) -> dict[str, Any]:
        """A dict that lives as long as this connection, for the application's own use."""
        if self._user_state is None:
            self._user_state = {}
        return self._user_state

    @property
    def principal(self) -> Principal | None:
        """Who the client is, as the endpoint's authenticator verified (``None``: no authenticator, or not yet)."""
        credentials = self._credentials
        return None if credentials is None else credentials.principal

    async def refresh(self, token: str) -> Principal:
        """Verify a fresh ``token`` with the endpoint's authenticator and make its principal the session's.

        The identity may not change (HTTP-style 403 :class:`~pyfly_ws.Reject`);
        a bad or expired token raises :class:`~pyfly_ws.InvalidToken`. Either
        way the session keeps its principal, and closes when that one expires.
        A message-level endpoint does this itself for an ``auth.refresh`` message.
        """
        credentials = self._credentials
        if credentials is None or credentials.pending:
            raise WebSocketStateError("refresh() needs a session signed in by an endpoint's authenticator")
        principal = await credentials.refresh(token)
        if self._supervisor is not None:
            self._supervisor.signed_in(principal)
        return principal

    @property
    def session_state(self) -> SessionState:
        """Where the session is: connecting, accepted or closed."""
        return self._state

    @property
    def accepted(self) -> bool:
        """Whether the handshake was accepted (stays true after close)."""
        return self._was_accepted

    @property
    def closed(self) -> bool:
        """Whether the session is closed, by either side or by refusal."""
        return self._state is _CLOSED

    @property
    def close_code(self) -> int | None:
        """The close code once closed (the peer's, if it closed first), else ``None``."""
        return self._close_code

    @property
    def close_reason(self) -> str:
        """The close reason once closed, else an empty string."""
        return self._close_reason

    @property
    def limits(self) -> Limits:
        """The limits this session runs under (the endpoint's, controller's and application's, merged)."""
        return self._limits

    @property
    def registry(self) -> Registry | None:
        """The live-session registry of the application serving this session (``None`` outside one)."""
        supervisor = cast("Serving | None", self._supervisor)  # __init__ takes a Serving; Wire keeps less of it
        return supervisor.registry if supervisor is not None else None

    @property
    def pending(self) -> int:
        """Messages sent but still waiting in the outgoing queue for a slow client."""
        return 0 if self._outbox is None else len(self._outbox)

    @property
    def dropped(self) -> int:
        """Messages discarded by the ``drop_oldest`` overflow policy."""
        return 0 if self._outbox is None else self._outbox.dropped

    # -- handshake -------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, optionally choosing one of the requested subprotocols.

        Behind a :class:`~pyfly_ws.auth.SubprotocolToken`, ``subprotocol``
        defaults to the application's, and the one carrying the token is
        refused; behind a :class:`~pyfly_ws.auth.MessageToken` this returns once
        the first message's token is verified (else the session closes with 1008
        and this raises :class:`~pyfly_ws.WebSocketDisconnect`).
        """
        if self._state is not _CONNECTING:
            raise WebSocketStateError(f"accept() needs a connecting session, this one is {self._state.value}")
        credentials = self._credentials
        if credentials is not None:
            if subprotocol is None:
                subprotocol = credentials.authenticator.subprotocol(self._handshake.subprotocols)
            elif credentials.authenticator.hides(subprotocol):
                raise ValueError("that subprotocol carries the client's token: accept with the application's own")
        if subprotocol is not None and subprotocol not in self._handshake.subprotocols:
            offered = ", ".join(self._handshake.subprotocols) or "none"
            raise ValueError(f"subprotocol {subprotocol!r} was not requested by the client (requested: {offered})")
        raw = _encode_headers(headers) if headers else ()
        try:
            await self._connection.accept(subprotocol, raw)
        except WebSocketDisconnect as exc:
            self._mark_gone(exc.code, exc.reason)
            raise
        self._state = _ACCEPTED
        self._was_accepted = True
        self._last_in = time.monotonic()
        if self._supervisor is not None:
            self._supervisor.accepted()
        if credentials is not None and credentials.pending and messenger_of(self) is None:
            frame = await self.receive()
            await sign_in(self, frame if isinstance(frame, str) else None)

    # -- sending ---------------------------------------------------------

    async def send(self, data: str | bytes) -> None:
        """Send ``str`` as a text message and ``bytes`` as a binary one."""
        if isinstance(data, str):
            await self._send(data, "send text")
        elif isinstance(data, bytes | bytearray | memoryview):
            await self._send(bytes(data), "send bytes")
        else:
            raise TypeError(f"send() takes str or bytes, got {type(data).__name__}")

    async def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        """Send ``data`` as JSON, in a text frame (``mode="text"``) or UTF-8 binary frame."""
        _check_mode(mode)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._send(text if mode == "text" else text.encode("utf-8"), "send JSON")

    def post(self, data: str | bytes) -> bool:
        """Queue a text (``str``) or binary (``bytes``) message without waiting, for fan-out.

        The session's writer sends it in order after anything queued before.
        Returns ``False`` if the session is closed or is being closed because its
        queue is full (``overflow="block"`` or ``"close"``: the client is too
        slow, close 1013); under ``"drop_oldest"`` the oldest queued message
        makes room instead.
        """
        if not isinstance(data, str | bytes):
            raise TypeError(f"post() takes str or bytes, got {type(data).__name__}")
        if self._state is not _ACCEPTED:
            if self._state is _CONNECTING:
                raise WebSocketStateError("cannot post before accept(): call `await session.accept()` first")
            return False
        return self._outbox_made().post(data)

    # -- messages (message-level endpoints) --------------------------------

    async def emit(self, type: str, data: Any = None) -> None:
        """Push ``{"type": type, "data": data}`` through the outgoing queue, in the endpoint's wire format.

        Only sessions of a message-level endpoint (a ``@websocket_mapping`` class) can emit.
        """
        await self._messenger_for("emit").emit(type, data)

    async def request(self, type: str, data: Any = None, *, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> Any:  # noqa: ASYNC109
        """Ask the client: send ``{"type", "id", "data"}`` with a fresh id and return the data of its reply.

        Raises :class:`~pyfly_ws.RequestTimeoutError` after ``timeout`` seconds,
        :class:`~pyfly_ws.RequestError` if the client answers with an error
        frame, and :class:`~pyfly_ws.SessionClosedError` if the session ends
        first. Only sessions of a message-level endpoint can ask.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        return await self._messenger_for("request").request(type, data, float(timeout))

    def _messenger_for(self, operation: str) -> Messenger:
        try:
            return self._messenger
        except AttributeError:
            raise WebSocketStateError(
                f"cannot {operation}: only sessions of a message-level endpoint (a @websocket_mapping class) can"
            ) from None

    # -- receiving -------------------------------------------------------

    async def receive_json(self, mode: JSONMode = "text") -> Any:
        """Wait for a JSON message in a text frame (``mode="text"``) or UTF-8 binary frame.

        Invalid JSON or UTF-8 raises :class:`InvalidPayloadError` (close 1007).
        """
        _check_mode(mode)
        if mode == "text":
            return _decode_json(await self.receive_text())
        payload = await self.receive_bytes()
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPayloadError(f"binary JSON message is not valid UTF-8: {exc.reason}") from None
        return _decode_json(text)

    async def iter_json(self, mode: JSONMode = "text") -> AsyncIterator[Any]:
        """Yield decoded JSON messages until the peer disconnects, then stop cleanly."""
        _check_mode(mode)
        try:
            while True:
                yield await self.receive_json(mode)
        except WebSocketDisconnect:
            return

    # -- closing ---------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL, reason: str | None = None) -> None:
        """Close the session; before accept this refuses the handshake (HTTP 403).

        Closing a session that is already closed does nothing.
        """
        code = _check_close_code(code)
        reason = check_reason(reason) if reason else ""
        if self._state is _CLOSED:
            return
        if self._state is _ACCEPTED and (self.pending or activity(self).writing_since is not None):
            await self._outbox_made().flush(self._limits.send_timeout)
            if self.closed:
                return
        await self._close_now(code, reason)


def attach_messenger(session: WebSocketSession, messenger: Messenger) -> None:
    """Give ``session`` the messenger of its message-level endpoint (the dispatcher does, once per session)."""
    session._messenger = messenger


async def sign_in(session: WebSocketSession, token: str | None) -> Principal:
    """Verify the token of a session's first message; on failure close with 1008 and raise ``WebSocketDisconnect``."""
    credentials = session._credentials
    if credentials is None:
        raise WebSocketStateError("sign_in() needs a session of an endpoint with an authenticator")
    try:
        if not token:
            raise InvalidToken("the first message carries no token")
        principal = await verified(credentials.authenticator, token, credentials.clock)
    except Reject as refusal:
        reason = trim_reason(refusal.reason or "authentication failed")
        supervisor = session._supervisor
        log_refusal(supervisor.name if supervisor is not None else session.path, refusal.status, reason)
        closed_by(session, "auth")
        await session.close(CloseCode.POLICY_VIOLATION, reason)
        raise WebSocketDisconnect(CloseCode.POLICY_VIOLATION, reason) from None
    credentials.signed_in(principal)
    if session._supervisor is not None:
        session._supervisor.signed_in(principal)
    return principal


def attach_credentials(session: WebSocketSession, credentials: Credentials) -> None:
    """Give ``session`` the credentials of its endpoint's authenticator (the lifecycle does, before the handler)."""
    session._credentials = credentials


def credentials_of(session: WebSocketSession) -> Credentials | None:
    """The credentials of ``session``, or ``None`` for a session of an endpoint without an authenticator."""
    return session._credentials


def messenger_of(session: WebSocketSession) -> Messenger | None:
    """The messenger attached to ``session``, or ``None`` for a session of a raw endpoint."""
    try:
        return session._messenger
    except AttributeError:
        return None


def trace_of(session: WebSocketSession) -> SessionTrace | None:
    """The traces of ``session`` (:mod:`pyfly_ws.session.tracing`); ``None`` when its application traces nothing."""
    supervisor = session._supervisor
    return None if supervisor is None else supervisor.trace


def _check_mode(mode: str) -> None:
    if mode != "text" and mode != "binary":
        raise ValueError(f"JSON mode must be 'text' or 'binary', got {mode!r}")


def _decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidPayloadError(f"message is not valid JSON: {exc}") from None


def _check_close_code(code: int) -> int:
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"close code must be an int, got {type(code).__name__}")
    if code in _RESERVED_CODES or not (code == 1000 or 1001 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(f"{code} is not a close code an endpoint may send (1000-1014 or 3000-4999)")
    return int(code)


def _encode_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> RawHeaders:
    if not headers:
        return ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    raw: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("accept() headers are str names and str values")
        if any(ch in name + value for ch in "\r\n\0") or not name:
            raise ValueError(f"invalid header {name!r}: empty name or control characters")
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return raw
