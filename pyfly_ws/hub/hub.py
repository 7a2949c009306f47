"""``Hub``: rooms of sessions, and publishing to them, in one process or across many.

A session joins rooms; a publication to a room goes to every member through
each member's bounded outgoing queue (``session.post``), so a slow member never
delays the others, and messages from one publisher to one room arrive in order.
The hub delivers to the members in its own process itself; its backend carries
the publication to other processes (Redis) or nowhere (the in-memory default).
Members leave every room by themselves when their session ends.
"""

from __future__ import annotations

import json
import logging
import uuid
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from ..mapping.messages import Codec, Envelope
from ..messages.codecs import JSON
from ..messages.encoding import to_data
from ..messages.frames import Frames, check_message_type
from ..session.tracing import Tracer
from ..session.wire import at_finish, deliver
from ..tasks import spawn_system_task
from .backend import Backend, HubUnavailableError
from .memory import MemoryBackend

if TYPE_CHECKING:
    from ..session.session import WebSocketSession

__all__ = ["Hub", "HubUnavailableError"]

logger = logging.getLogger("pyfly_ws.hub")

_TEXT, _BINARY = b"t", b"b"
_DEFAULT_FRAMES = Frames(JSON, Envelope())


class Hub:
    """Rooms of sessions. ``Hub()`` serves one process; ``Hub("redis://host:6379/0")`` spans many.

    Start it with the application (``create_app(..., services=[hub])``) or
    ``async with hub:``; an in-memory hub also works without being started.
    """

    def __init__(self, backend: Backend | str | None = None) -> None:
        if isinstance(backend, str):
            from .redis import RedisBackend

            backend = RedisBackend(backend)
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        """Where publications go beyond this process."""
        self.node = uuid.uuid4().bytes
        """This process's id in envelopes, so it skips its own publications coming back."""
        self.publications = 0
        """Publications made in this process (the ``hub.publications`` figure)."""
        self.deliveries = 0
        """Messages queued for members in this process, from its own publications and other processes'."""
        self.tracer: Tracer | None = None
        """With one (``create_app(..., telemetry=...)`` sets it), :meth:`publish_message` carries the current trace."""
        self._rooms: dict[str, set[WebSocketSession]] = {}
        self._joined: weakref.WeakKeyDictionary[WebSocketSession, set[str]] = weakref.WeakKeyDictionary()
        self._tasks: TaskGroup | None = None
        self._departing: weakref.WeakKeyDictionary[WebSocketSession, dict[str, anyio.Event]] = (
            weakref.WeakKeyDictionary()
        )
        self._stopping: anyio.Event | None = None
        self._stopped: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"<Hub {type(self.backend).__name__} {len(self._rooms)} rooms>"

    # -- lifetime --------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the backend is connected (``start`` ran and ``stop`` did not)."""
        return self._tasks is not None

    async def start(self) -> None:
        """Connect the backend; its background work runs in a task of the hub's own until :meth:`stop`.

        The hub's task outlives the caller's: a framework may run startup and
        shutdown hooks in different tasks or cancel scopes.
        """
        if self._tasks is not None:
            return
        ready = anyio.Event()
        stopping = self._stopping = anyio.Event()
        stopped = self._stopped = anyio.Event()
        failure: list[BaseException] = []

        async def run() -> None:
            try:
                async with anyio.create_task_group() as group:
                    self._tasks = group
                    try:
                        await self.backend.start(self._deliver_remote, group)
                        for room, members in self._rooms.items():
                            await self.backend.subscribe(room)
                            await self.backend.add_members(room, len(members))
                    except Exception as exc:
                        failure.append(exc)
                        group.cancel_scope.cancel()
                        return
                    finally:
                        ready.set()
                    await stopping.wait()
                    self._tasks = None
                    with anyio.CancelScope(shield=True):
                        await self.backend.stop()
                    group.cancel_scope.cancel()
            finally:
                self._tasks = None
                stopped.set()

        spawn_system_task(run)
        await ready.wait()
        if failure:
            await stopped.wait()
            self._stopping = self._stopped = None
            if isinstance(failure[0], HubUnavailableError):
                raise failure[0].with_traceback(None)  # its one line says it all; the hub task's frames do not
            raise failure[0]

    async def stop(self) -> None:
        """Disconnect the backend and stop its background work."""
        if self._stopping is None or self._stopped is None:
            return
        self._stopping.set()
        await self._stopped.wait()
        self._stopping = self._stopped = None

    async def __aenter__(self) -> Hub:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- membership ------------------------------------------------------------

    async def join(self, session: WebSocketSession, room: str) -> None:
        """Add ``session`` to ``room`` (it leaves by itself when it ends)."""
        _check_room(room)
        rooms = self._joined.get(session)
        if rooms is None:
            rooms = self._joined[session] = set()
            at_finish(session, lambda: self._session_ended(session))
        if room in rooms:
            return
        rooms.add(room)
        members = self._rooms.setdefault(room, set())
        members.add(session)
        if self._tasks is not None:
            if len(members) == 1:
                await self.backend.subscribe(room)
            await self.backend.add_members(room, 1)

    async def leave(self, session: WebSocketSession, room: str) -> None:
        """Remove ``session`` from ``room``; nothing happens if it is not a member."""
        if self._forget(session, room):
            await self._left(room)
            return
        departing = self._departing.get(session)
        if departing is not None and room in departing:
            await departing[room].wait()  # let go when the session ended: wait until the backend knows

    def rooms_of(self, session: WebSocketSession) -> frozenset[str]:
        """The rooms ``session`` is in."""
        return frozenset(self._joined.get(session, ()))

    def members(self, room: str) -> int:
        """Members of ``room`` in this process."""
        return len(self._rooms.get(room, ()))

    async def count(self, room: str) -> int:
        """Members of ``room`` in every process (this process's count while the hub is not started)."""
        if self._tasks is None:
            return self.members(room)
        return await self.backend.count(room)

    # -- publishing ------------------------------------------------------------

    async def publish(self, room: str, data: str | bytes, *, exclude: WebSocketSession | None = None) -> int:
        """Send ``data`` (text for ``str``, binary for ``bytes``) to every member of ``room``.

        ``exclude`` (typically the sender) does not get it. Returns how many
        members of this process it was queued for. Raises
        :class:`HubUnavailableError` if the backend could not carry it to the
        other processes (the members here have it already).
        """
        if not isinstance(data, str | bytes):
            raise TypeError(f"publish() takes str or bytes, got {type(data).__name__}; use publish_json for data")
        delivered = self._fan_out(room, data, exclude)
        self.publications += 1
        if self._tasks is not None:
            payload = data.encode("utf-8") if isinstance(data, str) else data
            await self.backend.publish(room, (_TEXT if isinstance(data, str) else _BINARY) + self.node + payload)
        else:
            await anyio.lowlevel.checkpoint()  # let the members' writers run between publications
        return delivered

    async def publish_json(self, room: str, value: Any, *, exclude: WebSocketSession | None = None) -> int:
        """:meth:`publish` ``value`` encoded as JSON in a text message."""
        return await self.publish(room, json.dumps(value, separators=(",", ":"), ensure_ascii=False), exclude=exclude)

    async def publish_message(
        self,
        room: str,
        type: str,
        data: Any = None,
        *,
        exclude: WebSocketSession | None = None,
        codec: Codec | None = None,
        envelope: Envelope | None = None,
    ) -> int:
        """:meth:`publish` the push ``{"type": type, "data": data}``, encoded once for every member.

        For members of message-level endpoints: ``data`` may be a dataclass, a
        pydantic model or a msgspec Struct. The frame is written in one wire
        format, JSON with the default envelope unless ``codec`` or
        ``envelope`` say otherwise: a room's members share it. When the hub
        traces (:attr:`tracer`), the frame carries the current span's W3C
        ``traceparent``, in every process the publication reaches.
        """
        frames = (
            _DEFAULT_FRAMES if codec is None and envelope is None else Frames(codec or JSON, envelope or Envelope())
        )
        check_message_type(type)
        carrier = self.tracer.carrier() if self.tracer is not None else None
        if carrier:
            return await self.publish(room, frames.traced(type, None, to_data(data), carrier), exclude=exclude)
        return await self.publish(room, frames.push(type, to_data(data)), exclude=exclude)

    # -- internals -------------------------------------------------------------

    def _fan_out(self, room: str, data: str | bytes, exclude: WebSocketSession | None) -> int:
        members = self._rooms.get(room)
        if not members:
            return 0
        delivered = 0
        for member in list(members):
            if member is exclude:
                continue
            if deliver(member, data):
                delivered += 1
            elif member.closed:
                self._session_ended(member)  # closed, or too slow and being closed: leaves every room now
        self.deliveries += delivered
        return delivered

    def _deliver_remote(self, room: str, envelope: bytes) -> None:
        """A publication from the backend: skip our own, fan the rest out here."""
        if len(envelope) < 17 or envelope[1:17] == self.node:
            return
        kind, payload = envelope[:1], envelope[17:]
        if kind == _TEXT:
            self._fan_out(room, payload.decode("utf-8", "replace"), None)
        elif kind == _BINARY:
            self._fan_out(room, payload, None)

    def _forget(self, session: WebSocketSession, room: str) -> bool:
        rooms = self._joined.get(session)
        if rooms is None or room not in rooms:
            return False
        rooms.discard(room)
        members = self._rooms.get(room)
        if members is not None:
            members.discard(session)
            if not members:
                del self._rooms[room]
        return True

    async def _left(self, room: str) -> None:
        if self._tasks is None:
            return
        await self.backend.add_members(room, -1)
        if room not in self._rooms:
            await self.backend.unsubscribe(room)

    def _session_ended(self, session: WebSocketSession) -> None:
        """Leave every room now; the backend learns it in the background."""
        for room in list(self._joined.get(session, ())):
            if self._forget(session, room) and self._tasks is not None:
                done = self._departing.setdefault(session, {})[room] = anyio.Event()
                self._tasks.start_soon(self._left_quietly, room, done)

    async def _left_quietly(self, room: str, done: anyio.Event) -> None:
        try:
            await self._left(room)
        except Exception:
            logger.debug("could not tell the backend that a member left %r", room, exc_info=True)
        finally:
            done.set()


def _check_room(room: object) -> None:
    if not isinstance(room, str) or not room:
        raise ValueError(f"a room is a non-empty string, got {room!r}")
