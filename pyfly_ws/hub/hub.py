"""``Hub``: rooms of sessions, and publishing to them, in one process or across many.

A session joins rooms; a publication to a room goes to every member through
each member's bounded outgoing queue (``session.post``), so a slow member never
delays the others, and messages from one publisher to one room arrive in order.
The hub delivers to the members in its own process itself; its backend carries
the publication to other processes (Redis) or nowhere (the in-memory default).
Members leave every room by themselves when their session ends.

A room may keep a history (``Hub(history=...)``, :mod:`pyfly_ws.hub.history`):
its publications are numbered and kept by the backend, and a member rejoining
with the position of the last one it got is replayed the rest. Members joined
with an identity make up the room's presence, across processes.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import uuid
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from ..close_codes import CloseCode
from ..mapping.messages import Codec, Envelope
from ..messages.codecs import JSON
from ..messages.encoding import to_data
from ..messages.frames import Frames, check_message_type
from ..session.session import messenger_of
from ..session.tracing import Tracer
from ..session.wire import at_finish, deliver
from ..tasks import spawn_system_task
from .backend import OWN, Backend, HubUnavailableError
from .history import POSITION_MARK, History, HistoryPolicy, Joined, Missed, Position, check_history, policy_for
from .memory import MemoryBackend
from .users import Signing, check_close

if TYPE_CHECKING:
    from ..session.session import WebSocketSession

__all__ = ["Hub", "HubUnavailableError"]

logger = logging.getLogger("pyfly_ws.hub")

_TEXT, _BINARY, _COMMAND = b"t", b"b", b"c"
_CONTROL = OWN + "pyfly_ws:control"
"""The room every started hub listens on for commands to all processes (``disconnect_user``)."""
_NOBODY = bytes(8)
"""The exclusion token of a publication that leaves nobody out."""
_HEADER = 1 + 16 + 8
"""An envelope's header: its kind (text or binary), the publishing process, the token of the member left out."""
_MARK = POSITION_MARK.encode("ascii")
_HOLD = 10**17
"""A recovering member's floor while it is being replayed to: above every offset, so it gets nothing live yet."""
_DEFAULT_FRAMES = Frames(JSON, Envelope())

Resync = Callable[["WebSocketSession", str], None]
"""``on_resync(session, room)``: tell a member of a raw endpoint that it may have missed publications of ``room``."""


class Hub:
    """Rooms of sessions. ``Hub()`` serves one process; ``Hub("redis://host:6379/0")`` spans many
    (``Hub("redis+cluster://host:7000")`` on a Redis Cluster).

    Start it with the application (``create_app(..., services=[hub])``) or
    ``async with hub:``; an in-memory hub also works without being started.
    """

    def __init__(
        self,
        backend: Backend | str | None = None,
        *,
        history: History = None,
        on_resync: Resync | None = None,
    ) -> None:
        if isinstance(backend, str):
            from .cluster import SCHEME, RedisClusterBackend
            from .redis import RedisBackend

            backend = RedisClusterBackend(backend) if backend.startswith(SCHEME) else RedisBackend(backend)
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        """Where publications go beyond this process."""
        if isinstance(self.backend, MemoryBackend):
            self.backend.receiver = self  # an in-memory hub works unstarted, rooms with history included
        self.histories: History = check_history(history)
        """What rooms keep: one :class:`HistoryPolicy` for all, policies by room pattern, or ``None``."""
        self.on_resync = on_resync
        """Called for each member of a raw endpoint in a room whose publications it may have missed."""
        self.node = uuid.uuid4().bytes
        """This process's id in envelopes, so it skips its own publications coming back (new in a forked worker)."""
        self._node_pid = os.getpid()
        self.publications = 0
        """Publications made in this process (the ``hub.publications`` figure)."""
        self.deliveries = 0
        """Messages queued for members in this process, from its own publications and other processes'."""
        self.replays = 0
        """Publications replayed to members that rejoined with a position (the ``hub.replays`` figure)."""
        self.resyncs = 0
        """Rooms whose members here were told to resync after an outage (the ``hub.resyncs`` figure)."""
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
        self._tops: dict[str, Position] = {}
        """Rooms with history this process receives, and the position of the last publication delivered here."""
        self._following: dict[str, anyio.Event] = {}
        self._floors: dict[str, dict[WebSocketSession, int]] = {}
        """Members rejoining with a position: they get live publications only past their floor."""
        self._tokens: weakref.WeakKeyDictionary[WebSocketSession, bytes] = weakref.WeakKeyDictionary()
        self._by_token: weakref.WeakValueDictionary[bytes, WebSocketSession] = weakref.WeakValueDictionary()
        self._serial = itertools.count(1)
        self._identities: dict[str, dict[str, int]] = {}
        """Per room, the identities of the members here, and how many sessions each has in it."""
        self._who: weakref.WeakKeyDictionary[WebSocketSession, dict[str, str]] = weakref.WeakKeyDictionary()
        """Per session, the identity it joined each room with."""
        self._registries: list[Signing] = []
        """The registries of the applications this hub serves (``create_app(..., services=[hub])``)."""

    def __repr__(self) -> str:
        return f"<Hub {type(self.backend).__name__} {len(self._rooms)} rooms>"

    # -- lifetime --------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the backend is connected (``start`` ran and ``stop`` did not)."""
        return self._tasks is not None

    @property
    def ready(self) -> bool:
        """Whether the hub delivers everything right now: started (an in-memory one need not be), and its backend
        receives every room that has members here (no link lost). The registry's :attr:`ready` asks it."""
        if self._tasks is None and not isinstance(self.backend, MemoryBackend):
            return False
        return not getattr(self.backend, "unheard_rooms", 0)

    async def start(self) -> None:
        """Connect the backend; its background work runs in a task of the hub's own until :meth:`stop`.

        The hub's task outlives the caller's: a framework may run startup and
        shutdown hooks in different tasks or cancel scopes.
        """
        if self._tasks is not None:
            return
        if self._node_pid != os.getpid():  # built before a server forked its workers: each is a node of its own
            self.node, self._node_pid = uuid.uuid4().bytes, os.getpid()
        ready = anyio.Event()
        stopping = self._stopping = anyio.Event()
        stopped = self._stopped = anyio.Event()
        failure: list[BaseException] = []

        async def run() -> None:
            try:
                async with anyio.create_task_group() as group:
                    self._tasks = group
                    try:
                        await self.backend.start(self, group)
                        await self.backend.subscribe(_CONTROL)
                        for room, members in list(self._rooms.items()):
                            top = await self.backend.subscribe(room)
                            if top is not None:
                                self._tops[room] = top
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

    def serve(self, registry: Signing) -> None:
        """Close the sessions of ``registry`` too when :meth:`disconnect_user` asks (``create_app`` calls this)."""
        if registry not in self._registries:
            self._registries.append(registry)

    # -- users -----------------------------------------------------------------

    async def disconnect_user(
        self, identity: str, *, code: int = CloseCode.POLICY_VIOLATION, reason: str = "signed out"
    ) -> int:
        """Close every session that speaks for ``identity`` (its principal's), in every process of the backend.

        Use it to revoke a user's access, or to sign them out everywhere. The
        sessions of this process close at once; the others as soon as the
        backend carries the word to their hub (which must serve their
        application: ``create_app(..., services=[hub])``). Returns how many
        sessions of this process were closed.
        """
        if not isinstance(identity, str) or not identity:
            raise ValueError(f"an identity is a non-empty string, got {identity!r:.80}")
        check_close(code, reason)
        closed = self._disconnect(identity, code, reason)
        if self._tasks is not None:
            command = json.dumps({"disconnect": identity, "code": code, "reason": reason}).encode("utf-8")
            await self.backend.publish(_CONTROL, _COMMAND + self.node + _NOBODY + command)
        return closed

    def _disconnect(self, identity: str, code: int, reason: str) -> int:
        closed = sum(registry.disconnect(identity, code, reason) for registry in self._registries)
        if closed:
            logger.info("closed %d sessions of a user, with %d", closed, code)
        return closed

    def _command(self, body: bytes) -> None:
        """A command from another process's hub."""
        try:
            command = json.loads(body)
            identity, code, reason = command["disconnect"], command["code"], command["reason"]
            check_close(code, reason)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed hub command (%d bytes)", len(body))
            return
        if isinstance(identity, str) and identity:
            self._disconnect(identity, code, reason)

    # -- membership ------------------------------------------------------------

    async def join(
        self,
        session: WebSocketSession,
        room: str,
        *,
        since: Position | str | None = None,
        identity: str | None = None,
    ) -> Joined:
        """Add ``session`` to ``room`` (it leaves by itself when it ends).

        With ``identity`` (who the session is, as the application names it: a
        user id), the session counts in :meth:`presence`, once however many
        tabs it has open, and message-level members get the pushes
        ``presence.join`` and ``presence.leave`` ``{"room", "identity"}`` as
        an identity's first session comes into the room (in any process) and
        its last one goes.

        In a room with history, ``since`` (a :class:`Position`, or the text of
        one from the client) first replays to the session every publication
        after it, in order, then goes on live, with none missing or twice; if
        they are not all kept, the result says so (``recovered=False``). A
        message-level session also gets the push ``{"type": "recovered", "data":
        {"room", "recovered", "missed", "replayed", "position"}}``. Raises
        :class:`HubUnavailableError` if a room with history cannot be reached.
        """
        _check_room(room)
        if identity is not None and (not isinstance(identity, str) or not identity or len(identity) > 256):
            raise ValueError(f"an identity is a string of 1 to 256 characters, got {identity!r:.80}")
        policy = self.history(room)
        rooms = self._joined.get(session)
        if rooms is None:
            rooms = self._joined[session] = set()
            at_finish(session, lambda: self._session_ended(session))
        if room in rooms:
            return Joined(room, self._tops.get(room))
        if policy is None:
            rooms.add(room)
            members = self._rooms.setdefault(room, set())
            members.add(session)
            if self._tasks is not None:
                if len(members) == 1:
                    await self.backend.subscribe(room)
                await self.backend.add_members(room, 1)
            await self._arrived(session, room, identity)
            return Joined(room) if since is None else _told(session, Joined(room, None, False, "history"))
        self._check_reachable()
        if since is not None and not session.accepted:
            raise RuntimeError("join(since=...) replays publications to the session: accept it first")
        floors = self._floors.setdefault(room, {})
        if since is not None:
            floors[session] = _HOLD
        rooms.add(room)
        self._rooms.setdefault(room, set()).add(session)
        try:
            try:
                await self._follow(room)
            except BaseException:
                self._forget(session, room)
                raise
            if self._tasks is not None:
                await self.backend.add_members(room, 1)
            await self._arrived(session, room, identity)
            if since is None:
                return Joined(room, self._tops.get(room))
            return await self._recover(session, room, since, policy, floors)
        finally:
            if floors.get(session) == _HOLD:
                del floors[session]
            if not floors and self._floors.get(room) is floors:
                del self._floors[room]

    def history(self, room: str) -> HistoryPolicy | None:
        """The history ``room`` keeps (``Hub(history=...)``), if any."""
        return None if room == _CONTROL else policy_for(self.histories, room)

    def position(self, room: str) -> Position | None:
        """The position of the last publication of ``room`` delivered in this process (rooms with history)."""
        return self._tops.get(room)

    async def leave(self, session: WebSocketSession, room: str) -> None:
        """Remove ``session`` from ``room``; nothing happens if it is not a member."""
        if self._forget(session, room):
            await self._left(room, self._absent(session, room))
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

    async def presence(self, room: str) -> list[str]:
        """Who is in ``room``, in every process: the identities members joined with, each once, sorted.

        A process that crashed drops out within three heartbeats (15 s) on Redis.
        """
        if self._tasks is None and not isinstance(self.backend, MemoryBackend):
            return sorted(self._identities.get(room, {}))
        return sorted(await self.backend.presence(room))

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

        In a room with history (:meth:`history`), the publication is stored
        first and given its position (written over the first
        :data:`~pyfly_ws.hub.POSITION_MARK` in ``data``, if any); every member,
        here too, gets it from the backend in position order, and the count is
        of the members here when it was published. If the backend cannot store
        it, :class:`HubUnavailableError` and nobody gets it.
        """
        if not isinstance(data, str | bytes):
            raise TypeError(f"publish() takes str or bytes, got {type(data).__name__}; use publish_json for data")
        policy = self.history(room)
        if policy is not None:
            return await self._store(room, data, exclude, policy, required=False)
        delivered = self._fan_out(room, data, exclude)
        self.publications += 1
        if self._tasks is not None:
            payload = data.encode("utf-8") if isinstance(data, str) else data
            kind = _TEXT if isinstance(data, str) else _BINARY
            await self.backend.publish(room, kind + self.node + _NOBODY + payload)
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
        ``traceparent``, in every process the publication reaches. In a room
        with history it carries its position too (``"position"``, before ``data``).
        """
        frames = (
            _DEFAULT_FRAMES if codec is None and envelope is None else Frames(codec or JSON, envelope or Envelope())
        )
        check_message_type(type)
        carrier = self.tracer.carrier() if self.tracer is not None else None
        policy = self.history(room)
        if policy is not None:
            frame = frames.marked(type, to_data(data), POSITION_MARK, carrier)
            return await self._store(room, frame, exclude, policy, required=True)
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

    def receive(self, room: str, envelope: bytes) -> None:
        """A publication from the backend to a room without history: skip our own, fan the rest out here."""
        if len(envelope) < _HEADER or envelope[1:17] == self.node:
            return
        if room == _CONTROL:
            if envelope[:1] == _COMMAND:
                self._command(envelope[_HEADER:])
            return
        data = _payload(envelope)
        if data is not None:
            self._fan_out(room, data, None)

    def receive_stored(self, room: str, position: Position, envelope: bytes) -> None:
        """A publication to a room with history, from any process (this one too), in position order."""
        self._tops[room] = position
        members = self._rooms.get(room)
        data = _payload(envelope) if members else None
        if data is None or not members:
            return
        excluded = self._by_token.get(envelope[17:_HEADER]) if envelope[1:17] == self.node else None
        floors = self._floors.get(room)
        delivered = 0
        for member in list(members):
            if member is excluded:
                continue
            if floors and member in floors:
                if position.offset <= floors[member]:
                    continue
                del floors[member]  # caught up: live from now on
            if deliver(member, data):
                delivered += 1
            elif member.closed:
                self._session_ended(member)
        self.deliveries += delivered

    def resync(self, room: str) -> None:
        """Publications to ``room`` may have been missed here: tell each member (a push, or ``on_resync``)."""
        members = self._rooms.get(room)
        if not members:
            return
        self.resyncs += 1
        floors = self._floors.get(room)
        if floors:
            for member in [m for m, floor in floors.items() if floor != _HOLD]:
                del floors[member]  # another epoch: their floors mean nothing in it
        untold = 0
        for member in list(members):
            frames = _frames_of(member)
            if frames is not None:
                deliver(member, frames.push("resync", {"room": room}))
            elif self.on_resync is not None:
                try:
                    self.on_resync(member, room)
                except Exception:
                    logger.exception("on_resync raised for a member of %r", room)
            else:
                untold += 1
        if untold:
            logger.warning(
                "%d members of raw endpoints in room %r may have missed publications during an outage; "
                "give the hub on_resync= to tell them, or keep the room's history (Hub(history=...))",
                untold,
                room,
            )

    def presence_changed(self, room: str, identity: str, present: bool) -> None:
        """Tell the message-level members of ``room`` that ``identity`` came or went."""
        members = self._rooms.get(room)
        if not members:
            return
        kind = "presence.join" if present else "presence.leave"
        data = {"room": room, "identity": identity}
        for member in list(members):
            frames = _frames_of(member)
            if frames is not None:
                deliver(member, frames.push(kind, data))

    # -- presence ----------------------------------------------------------------

    async def _arrived(self, session: WebSocketSession, room: str, identity: str | None) -> None:
        """Count ``session`` under ``identity`` in ``room``; its first session here tells the backend."""
        if identity is None:
            return
        self._who.setdefault(session, {})[room] = identity
        here = self._identities.setdefault(room, {})
        here[identity] = here.get(identity, 0) + 1
        if here[identity] == 1:
            await self._mark(room, identity, True)

    def _absent(self, session: WebSocketSession, room: str) -> str | None:
        """``session`` left ``room``: the identity that has no session left in it here, if any."""
        joined = self._who.get(session)
        identity = joined.pop(room, None) if joined is not None else None
        if identity is None:
            return None
        here = self._identities.get(room, {})
        count = here.get(identity, 0) - 1
        if count > 0:
            here[identity] = count
            return None
        here.pop(identity, None)
        if not here:
            self._identities.pop(room, None)
        return identity

    async def _mark(self, room: str, identity: str, here: bool) -> None:
        if self._tasks is not None:
            await self.backend.present(room, identity, here)
        elif isinstance(self.backend, MemoryBackend):
            self.backend.mark(room, identity, here)

    # -- rooms with history ------------------------------------------------------

    async def _store(
        self, room: str, data: str | bytes, exclude: WebSocketSession | None, policy: HistoryPolicy, *, required: bool
    ) -> int:
        self._check_reachable()
        payload = data.encode("utf-8") if isinstance(data, str) else data
        envelope = (_TEXT if isinstance(data, str) else _BINARY) + self.node + self._token(exclude) + payload
        mark = envelope.find(_MARK, _HEADER)
        if mark < 0 and required:
            raise TypeError(
                "the codec did not write the position mark as it is: a room with history needs one that does"
            )
        members = self._rooms.get(room, ())
        count = len(members) - (exclude in members)
        self.publications += 1
        await self.backend.store(room, envelope, policy, mark)
        if self._tasks is None:
            await anyio.lowlevel.checkpoint()  # let the members' writers run between publications
        return count

    def _token(self, session: WebSocketSession | None) -> bytes:
        """The token by which this process recognises ``session`` as left out of its own publication."""
        if session is None:
            return _NOBODY
        token = self._tokens.get(session)
        if token is None:
            token = self._tokens[session] = next(self._serial).to_bytes(8, "big")
            self._by_token[token] = session
        return token

    def _check_reachable(self) -> None:
        if self._tasks is None and not isinstance(self.backend, MemoryBackend):
            raise HubUnavailableError(
                "a room with history needs the hub started: create_app(..., services=[hub]) or `async with hub:`"
            )

    async def _follow(self, room: str) -> None:
        """Have this process receive the stored publications of ``room`` (once: later callers wait for the first)."""
        while room not in self._tops:
            pending = self._following.get(room)
            if pending is not None:
                await pending.wait()
                continue
            done = self._following[room] = anyio.Event()
            try:
                top = await self.backend.subscribe(room)
                if top is None:
                    raise RuntimeError(f"{type(self.backend).__name__}.subscribe() gave no position for {room!r}")
                self._tops.setdefault(room, top)
            finally:
                del self._following[room]
                done.set()

    async def _recover(
        self,
        session: WebSocketSession,
        room: str,
        since: Position | str,
        policy: HistoryPolicy,
        floors: dict[WebSocketSession, int],
    ) -> Joined:
        """Replay what ``session`` missed after ``since``, then let it go live with nothing lost or twice."""
        try:
            start = since if isinstance(since, Position) else Position.parse(since)
        except ValueError:
            return self._recovered(session, room, "epoch", floors)
        floor, replayed = start.offset, 0
        missed: Missed | None = None
        while True:
            stored = await self.backend.read(room, floor, policy)
            if stored.top.epoch != start.epoch or stored.top.offset < floor:
                missed = "epoch"
                break
            if not stored.complete:
                missed = "gap"
                break
            for _, envelope in stored.entries:
                data = _payload(envelope)
                if data is not None:
                    await (session.send_text(data) if isinstance(data, str) else session.send_bytes(data))
                    replayed += 1
            self.replays += len(stored.entries)
            floor = stored.top.offset
            top = self._tops.get(room)
            if top is not None and top.epoch != start.epoch:
                missed = "epoch"  # the history was lost while replaying
                break
            if top is None or top.offset <= floor:
                break  # nothing past the floor reached this process yet: live from here, no await in between
        return self._recovered(session, room, missed, floors, floor, replayed)

    def _recovered(
        self,
        session: WebSocketSession,
        room: str,
        missed: Missed | None,
        floors: dict[WebSocketSession, int],
        floor: int = 0,
        replayed: int = 0,
    ) -> Joined:
        top = self._tops.get(room)
        if missed is None:
            floors[session] = floor
            position = Position(top.epoch, max(floor, top.offset)) if top is not None else None
        else:
            del floors[session]  # live from now; the application reloads what came before
            position = top
        return _told(session, Joined(room, position, missed is None, missed, replayed))

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
        floors = self._floors.get(room)
        if floors is not None:
            floors.pop(session, None)
        return True

    async def _left(self, room: str, gone: str | None = None) -> None:
        if gone is not None:
            await self._mark(room, gone, False)
        if self._tasks is None:
            return
        if room in self._rooms:
            await self.backend.add_members(room, -1)
            return
        # Let go of an empty room before writing its count: a slow write during an outage never keeps
        # a room nobody here is in subscribed (nor counted as unheard).
        self._tops.pop(room, None)
        await self.backend.unsubscribe(room)
        await self.backend.add_members(room, -1)
        if room in self._rooms:  # someone joined while the backend let go: receive the room again
            if self.history(room) is not None:
                await self._follow(room)
            else:
                await self.backend.subscribe(room)

    def _session_ended(self, session: WebSocketSession) -> None:
        """Leave every room now; the backend learns it in the background."""
        for room in list(self._joined.get(session, ())):
            if not self._forget(session, room):
                continue
            gone = self._absent(session, room)
            if self._tasks is not None:
                done = self._departing.setdefault(session, {})[room] = anyio.Event()
                self._tasks.start_soon(self._left_quietly, room, gone, done)
            elif gone is not None and isinstance(self.backend, MemoryBackend):
                self.backend.mark(room, gone, False)

    async def _left_quietly(self, room: str, gone: str | None, done: anyio.Event) -> None:
        try:
            await self._left(room, gone)
        except Exception:
            logger.debug("could not tell the backend that a member left %r", room, exc_info=True)
        finally:
            done.set()


def _payload(envelope: bytes) -> str | bytes | None:
    """What an envelope carries: text for a text publication, bytes for a binary one (``None``: neither)."""
    kind = envelope[:1]
    if kind == _TEXT:
        return envelope[_HEADER:].decode("utf-8", "replace")
    if kind == _BINARY:
        return envelope[_HEADER:]
    return None


def _told(session: WebSocketSession, joined: Joined) -> Joined:
    """Push ``recovered`` to a message-level ``session`` that rejoined with a position, telling it ``joined``."""
    frames = _frames_of(session)
    if frames is not None:
        notice = {
            "room": joined.room,
            "recovered": joined.recovered,
            "missed": joined.missed,
            "replayed": joined.replayed,
            "position": None if joined.position is None else str(joined.position),
        }
        deliver(session, frames.push("recovered", notice))
    return joined


def _frames_of(session: WebSocketSession) -> Frames | None:
    """The frames of ``session``'s message-level endpoint; ``None`` for a raw endpoint."""
    frames = getattr(messenger_of(session), "frames", None)
    return frames if isinstance(frames, Frames) else None


def _check_room(room: object) -> None:
    if not isinstance(room, str) or not room or room.startswith(OWN):
        raise ValueError(f"a room is a non-empty string not starting with NUL, got {room!r:.80}")
