"""``RedisBackend``: rooms shared by every process connected to one Redis, through its pub/sub.

Each room is a Redis channel (``PREFIX:room:ROOM``); one reader task per
process receives the rooms it has members in. Member counts live in one hash
per room (``PREFIX:members:ROOM``, a field per process), and a process counts
only while its heartbeat key (``PREFIX:node:ID``, renewed every few seconds)
exists, so a crashed process drops out of the counts by itself.

A room with history keeps its publications in a stream
(``PREFIX:history:ROOM``) beside its epoch and last offset
(``PREFIX:meta:ROOM``); one script numbers a publication, appends it to the
stream and publishes it, so no process sees one that is not kept. Each process
tracks the last position it delivered per room: a publication that arrives
past a hole, or the resubscription after a lost link, makes it read the
missing ones from the stream first.

When Redis is unreachable or restarts: sessions stay open; a publication is
retried with backoff for ``retry_for`` seconds, then fails with
:class:`~pyfly_ws.hub.HubUnavailableError` (for a room without history, the
members in this process have it already); the reader reconnects with backoff
and subscribes again to every room by itself, catches up the rooms with
history from their streams, and tells the members of the others to resync
(pub/sub keeps no history). The outage and the recovery are each logged once.
"""

from __future__ import annotations

import logging
import time
from string import Template
from typing import Any, ClassVar
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskGroup

from ..exceptions import MissingDependencyError
from .backend import HubUnavailableError, Receiver, members_rooms
from .history import POSITION_MARK, HistoryPolicy, Position, Stored, check_entries, new_epoch

__all__ = ["RedisBackend"]

logger = logging.getLogger("pyfly_ws.hub")

HEARTBEAT = 5.0
"""Seconds between renewals of this process's heartbeat key (it expires after three times this)."""

_EPOCH_GRACE_MS = 3_600_000
"""Milliseconds a room's epoch and offset outlive its stream (so a late rejoin hears ``gap``, not ``epoch``)."""

_STORE = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[6]
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local token = epoch .. '-' .. string.format('%016d', offset)
local envelope = ARGV[2]
local mark = tonumber(ARGV[3])
if mark >= 0 then
  envelope = string.sub(envelope, 1, mark) .. token .. string.sub(envelope, mark + 26)
end
local now = redis.call('TIME')
local at = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], offset .. '-0', 'm', envelope, 't', at)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[5] + ARGV[7])
redis.call('$publish', ARGV[1], '@' .. token .. envelope)
return offset
"""
"""Number, keep and publish one publication: KEYS meta, stream; ARGV channel, envelope, mark, size, ttl ms,
a new epoch (used if the room has none), grace ms. ``$publish`` is the command that publishes (``PUBLISH``)."""

_READ = """
if redis.call('HSETNX', KEYS[1], 'e', ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'o', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local meta = redis.call('HMGET', KEYS[1], 'e', 'o')
local now = redis.call('TIME')
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+')
end
return {meta[1], meta[2], now[1] * 1000 + math.floor(now[2] / 1000), entries}
"""
"""A room's epoch and last offset (begun if none), Redis's clock in ms, and the stream after an offset:
KEYS meta, stream; ARGV the offset ('' for none), a new epoch, grace ms."""


def _redis() -> Any:
    try:
        import redis.asyncio
        import redis.exceptions
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != "redis" and not exc.name.startswith("redis."):
            raise  # something redis-py itself needs
        missing = MissingDependencyError(
            'the Redis hub needs redis-py, which is not installed: pip install "pyfly-ws[redis]"'
        )
        missing.name = "redis"
        raise missing from None
    return redis


def redacted(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` query parameter) shown as ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}"
        query = "&".join(
            "password=***" if pair.partition("=")[0].lower() == "password" else pair for pair in parts.query.split("&")
        )
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:
        return f"{url.partition('://')[0]}://***"


class RedisBackend:
    """Publications and member counts shared through Redis (redis-py's asyncio client)."""

    _PUBLISH: ClassVar[str] = "PUBLISH"
    """The command the store script publishes with."""

    def __init__(self, url: str, *, prefix: str = "pyfly-ws", retry_for: float = 5.0) -> None:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://, got {redacted(url)!r}")
        self._redis = _redis()  # chosen now: a missing redis-py fails here, not at start-up
        self.url = url
        self.shown_url = redacted(url)
        """The URL as logs and errors show it: without its password."""
        self.prefix = prefix
        self.retry_for = retry_for
        """Seconds a publication is retried while Redis is unreachable, before it fails."""
        self._client: Any = None
        self._pubsub: Any = None
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        self._rooms: set[str] = set()
        self._receiver: Receiver | None = None
        self._last: dict[str, Position] = {}
        """Rooms with history this process follows, and the last position handed to the hub."""
        self._waiting: dict[str, anyio.Event] = {}
        self._heard: set[str] = set()
        """Rooms whose subscription Redis confirmed on the current link."""
        self._doubtful: set[str] = set()
        """Rooms received on a link that was lost, not yet confirmed on a new one: they may have missed some."""
        self._seen_once: set[str] = set()
        """Rooms whose presence was read before: a later read tells the hub who came meanwhile."""
        self._scripts: dict[str, Any] = {}
        self._counted: dict[str, int] = {}
        self._present: dict[str, set[str]] = {}
        """Per room, the identities with a session in this process (rewritten by every heartbeat)."""
        self._seen: dict[str, dict[str, set[str]]] = {}
        """Per room followed here, each identity present and the processes it has sessions in."""
        self._wake = anyio.Event()
        self._node = ""
        self._down_since: float | None = None
        self.outages = 0
        """Times Redis became unreachable (each outage once, however long)."""
        self.reconnections = 0
        """Times Redis became reachable again after an outage."""

    def __repr__(self) -> str:
        return f"<RedisBackend {self.shown_url}>"

    @property
    def unheard_rooms(self) -> int:
        """Rooms to receive whose subscription Redis has not confirmed on the current link (all, while it is down)."""
        if self._pubsub is None:
            return members_rooms(self._rooms)
        return members_rooms(self._rooms - self._heard)

    # -- the contract ------------------------------------------------------------

    async def start(self, receiver: Receiver, tasks: TaskGroup) -> None:
        """Connect (retrying for ``retry_for`` seconds), and start the reader and the heartbeat.

        Raises :class:`~pyfly_ws.hub.HubUnavailableError`, with one line naming
        the URL and the cause, if Redis cannot be reached in that time.
        """
        client = self._client = self._connect()
        self._receiver = receiver
        store = Template(_STORE).substitute(publish=self._PUBLISH)
        self._scripts = {"store": client.register_script(store), "read": client.register_script(_READ)}
        self._node = f"{self.prefix}:node:{id(self):x}-{time.time_ns():x}"
        deadline = time.monotonic() + self.retry_for
        backoff = 0.05
        while True:
            try:
                await client.set(self._node, 1, ex=int(HEARTBEAT * 3))
                break
            except self._errors as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._client = None
                    with anyio.CancelScope(shield=True):
                        await self._close(client)
                    cause = str(exc) or type(exc).__name__
                    raise HubUnavailableError(
                        f"the hub cannot start: Redis at {self.shown_url} is unreachable ({cause}); "
                        f"tried for {self.retry_for:g} s"
                    ) from None
                logger.debug("Redis at %s is not reachable yet (%s); retrying", self.shown_url, exc)
                await anyio.sleep(min(backoff, remaining))  # the last attempt at the deadline
                backoff = min(backoff * 2, 1.0)
        tasks.start_soon(self._listen, receiver)
        tasks.start_soon(self._heartbeat)

    async def stop(self) -> None:
        """Take this process out of the counts, then disconnect."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            with anyio.move_on_after(2):
                async with client.pipeline(transaction=False) as pipe:
                    for room in self._counted:
                        pipe.hdel(self._members_key(room), self._node)
                    for room, identities in self._present.items():
                        for identity in identities:
                            pipe.hdel(self._presence_key(room), self._field(identity))
                            self._announce(pipe, room, self._presence_event(identity, False))
                    pipe.delete(self._node)
                    await pipe.execute()
        except self._errors:
            logger.debug("could not remove this process's counts from Redis", exc_info=True)
        finally:
            self._counted.clear()
            self._present.clear()
            self._seen.clear()
            self._last.clear()
            self._heard.clear()
            self._doubtful.clear()
            await self._close(client)

    async def subscribe(self, room: str) -> Position | None:
        """Receive ``room`` from now on (again after every reconnection).

        For a room with history, it waits (up to ``retry_for`` seconds) until
        Redis confirmed the subscription and returns the room's position then.
        """
        self._rooms.add(room)
        receiver = self._receiver
        policy = receiver.history(room) if receiver is not None else None
        confirmed = None
        if policy is not None and room not in self._last:
            confirmed = self._waiting.get(room) or self._waiting.setdefault(room, anyio.Event())
        await self._subscribe_channel(room)
        if policy is None:
            return None
        if confirmed is not None:
            with anyio.move_on_after(self.retry_for):
                await confirmed.wait()
        top = self._last.get(room)
        if top is None:
            raise HubUnavailableError(
                f"Redis at {self.shown_url} did not confirm the subscription to room {room!r} in {self.retry_for:g} s"
            )
        return top

    async def unsubscribe(self, room: str) -> None:
        """Stop receiving ``room``."""
        self._rooms.discard(room)
        self._last.pop(room, None)
        self._heard.discard(room)
        self._doubtful.discard(room)
        self._seen.pop(room, None)
        self._seen_once.discard(room)
        await self._unsubscribe_channel(room)

    async def publish(self, room: str, envelope: bytes) -> None:
        """``PUBLISH`` to the room's channel, retrying with backoff for ``retry_for`` seconds."""
        await self._retrying(lambda: self._client.publish(self._channel(room), envelope))

    async def store(self, room: str, envelope: bytes, policy: HistoryPolicy, mark: int) -> None:
        """One script: number the publication, ``XADD`` it to the room's stream, and ``PUBLISH`` it."""
        script = self._scripts["store"]
        keys = [self._meta_key(room), self._history_key(room)]
        size, ttl = policy.size, policy.ttl_ms

        def run() -> Any:
            args = [self._channel(room), envelope, mark, size, ttl, new_epoch(), _EPOCH_GRACE_MS]
            return script(keys=keys, args=args)

        await self._retrying(run)

    async def read(self, room: str, since: int | None, policy: HistoryPolicy) -> Stored:
        """The room's top, and the stream after ``since`` without what is older than the ttl."""
        script = self._scripts.get("read")
        if script is None:
            raise HubUnavailableError("the hub's Redis backend is not started")
        keys = [self._meta_key(room), self._history_key(room)]
        args = ["" if since is None else since, new_epoch(), policy.ttl_ms + _EPOCH_GRACE_MS]
        epoch, offset, now, raw = await self._retrying(lambda: script(keys=keys, args=args))
        top = Position(epoch.decode("ascii"), int(offset))
        if since is None:
            return Stored(top)
        oldest = int(now) - policy.ttl_ms
        entries = [
            (int(entry_id.partition(b"-")[0]), fields[b"m"])
            for entry_id, fields in ((entry_id, _pairs(values)) for entry_id, values in raw)
            if int(fields.get(b"t", b"0")) >= oldest
        ]
        return Stored(top, entries, complete=since >= top.offset or check_entries(since, top.offset, entries))

    async def add_members(self, room: str, delta: int) -> None:
        """``HINCRBY`` this process's field of the room's count."""
        count = self._counted.get(room, 0) + delta
        if count > 0:
            self._counted[room] = count
        else:
            self._counted.pop(room, None)

        async def write() -> Any:
            if count > 0:
                return await self._client.hset(self._members_key(room), self._node, count)
            return await self._client.hdel(self._members_key(room), self._node)

        try:
            await self._again_once(write)
        except self._errors as exc:
            self._went_down(exc)  # the heartbeat writes the counts again once Redis is back

    async def count(self, room: str) -> int:
        """The sum of the room's fields whose process is alive."""
        fields = await self._retrying(lambda: self._client.hgetall(self._members_key(room)))
        if not fields:
            return 0
        nodes = list(fields)

        async def alive() -> list[int]:
            async with self._client.pipeline(transaction=False) as pipe:
                for node in nodes:
                    pipe.exists(node)
                return list(await pipe.execute())

        flags = await self._retrying(alive)
        return sum(int(fields[node]) for node, flag in zip(nodes, flags, strict=True) if flag)

    async def present(self, room: str, identity: str, here: bool) -> None:
        """Write (or delete) this process's field of ``identity`` in the room's presence hash, and announce it
        on the room's channel (every process following the room updates what it knows)."""
        present = self._present.setdefault(room, set())
        if here:
            present.add(identity)
        else:
            present.discard(identity)
            if not present:
                del self._present[room]
        key, field = self._presence_key(room), self._field(identity)

        async def write() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                if here:
                    pipe.hset(key, field, 1)
                else:
                    pipe.hdel(key, field)
                self._announce(pipe, room, self._presence_event(identity, here))
                await pipe.execute()

        try:
            await self._again_once(write)
        except self._errors as exc:
            self._went_down(exc)  # the heartbeat writes the fields again once Redis is back

    async def presence(self, room: str) -> set[str]:
        """The identities of the room's presence hash whose process is alive."""
        return {identity for identity, _ in await self._alive_presence(room)}

    async def _alive_presence(self, room: str) -> list[tuple[str, str]]:
        """``(identity, process)`` for every field of the room's presence hash whose process is alive."""
        fields = await self._retrying(lambda: self._client.hkeys(self._presence_key(room)))
        entries = [_split_field(field) for field in fields]
        nodes = sorted({node for _, node in entries})
        alive = dict(zip(nodes, await self._alive(nodes), strict=True))
        return [(identity, node) for identity, node in entries if alive[node]]

    async def _alive(self, nodes: list[str]) -> list[bool]:
        if not nodes:
            return []

        async def check() -> list[bool]:
            async with self._client.pipeline(transaction=False) as pipe:
                for node in nodes:
                    pipe.exists(node)
                return [bool(flag) for flag in await pipe.execute()]

        result: list[bool] = await self._retrying(check)
        return result

    # -- background work -----------------------------------------------------------

    async def _listen(self, receiver: Receiver) -> None:
        """Receive publications; reconnect with backoff and subscribe again whenever Redis goes away."""
        backoff = 0.1
        prefix = f"{self.prefix}:room:".encode()
        while self._client is not None:
            pubsub = self._client.pubsub()
            self._heard.clear()
            try:
                while not self._rooms:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                rooms = set(self._rooms)
                await pubsub.subscribe(*(self._channel(room) for room in rooms))
                self._pubsub = pubsub  # from now on subscribe() subscribes by itself
                late = self._rooms - rooms  # joined while the link came up
                if late:
                    await pubsub.subscribe(*(self._channel(room) for room in late))
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    kind = None if message is None else message.get("type")
                    if kind == "message" or kind == "subscribe":
                        channel: bytes = message["channel"]
                        if not channel.startswith(prefix):
                            continue
                        room = channel[len(prefix) :].decode("utf-8")
                        if kind == "message":
                            await self._arrived(receiver, room, message["data"])
                            continue
                        # Redis answered (a write alone may go to a connection from before a restart)
                        self._came_back()
                        backoff = 0.1
                        # again: the room was received before an outage, or redis-py resubscribed by itself
                        again = room in self._doubtful or room in self._heard
                        self._doubtful.discard(room)
                        await self._subscribed(receiver, room, again=again)
                    elif not pubsub.subscribed and self._rooms:
                        await pubsub.subscribe(*(self._channel(room) for room in self._rooms))
            except self._errors as exc:
                if self._pubsub is pubsub:  # the link was up: what it received may have missed publications
                    self._doubtful |= self._rooms
                self._pubsub = None
                self._went_down(exc)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                if self._client is None:
                    return  # stopping: the client closed under a call in progress
                logger.exception("the Redis reader failed; reconnecting")  # never quietly deaf
                self._doubtful |= self._rooms
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                self._pubsub = None
                with anyio.CancelScope(shield=True):
                    try:
                        await pubsub.aclose()
                    except Exception:
                        logger.debug("closing a Redis pub/sub connection failed", exc_info=True)

    async def _subscribed(self, receiver: Receiver, room: str, *, again: bool) -> None:
        """Redis confirmed the subscription to ``room``: begin following its history, or catch up after a lost link."""
        if room not in self._rooms:
            return
        self._heard.add(room)
        await self._load_presence(receiver, room)
        policy = receiver.history(room)
        if policy is None:
            if again:
                receiver.resync(room)
            return
        if room in self._last:
            await self._catch_up(receiver, room, policy)
        else:
            self._last[room] = (await self.read(room, None, policy)).top
        confirmed = self._waiting.pop(room, None)
        if confirmed is not None:
            confirmed.set()

    async def _arrived(self, receiver: Receiver, room: str, data: bytes) -> None:
        """A publication on a room's channel: stored ones in position order, with any hole filled from the stream."""
        if data[:1] == b"p":
            self._presence_heard(receiver, room, data)
            return
        if data[:1] != b"@":
            receiver.receive(room, data)
            return
        last = self._last.get(room)
        policy = receiver.history(room)
        if last is None or policy is None:
            return  # not followed (yet): the confirmation, processed first, begins that
        position = Position.read(data[1:])
        if position.epoch == last.epoch:
            if position.offset <= last.offset:
                return  # had it already (caught up from the stream)
            if position.offset == last.offset + 1:
                self._last[room] = position
                receiver.receive_stored(room, position, data[1 + len(POSITION_MARK) :])
                return
        await self._catch_up(receiver, room, policy)  # kept before it was published: the stream has it too

    async def _catch_up(self, receiver: Receiver, room: str, policy: HistoryPolicy) -> None:
        """Hand the hub what the stream kept after the last position delivered; resync where that is not all."""
        last = self._last[room]
        stored = await self.read(room, last.offset, policy)
        if stored.top.epoch != last.epoch:
            receiver.resync(room)  # the history was lost (a restart without persistence): begin the new one
            last = Position(stored.top.epoch, 0)
            stored = await self.read(room, 0, policy)
        elif not stored.complete:
            receiver.resync(room)
        for offset, envelope in stored.entries:
            if offset > last.offset:
                last = Position(last.epoch, offset)
                receiver.receive_stored(room, last, envelope)
        if stored.top.epoch == last.epoch and stored.top.offset > last.offset:
            last = stored.top
        self._last[room] = last

    async def _load_presence(self, receiver: Receiver, room: str) -> None:
        """Read who is in ``room`` (on each confirmed subscription), telling the hub what changed meanwhile."""
        seen: dict[str, set[str]] = {}
        for identity, node in await self._alive_presence(room):
            seen.setdefault(identity, set()).add(node)
        before = self._seen.get(room, {})
        self._seen[room] = seen
        for identity in before.keys() - seen.keys():
            receiver.presence_changed(room, identity, False)
        # Later reads tell who came meanwhile; the first one, who of this process came before it was read
        # (announced before the subscription was confirmed, so perhaps not heard).
        came = seen.keys() - before.keys()
        if room not in self._seen_once:
            came &= self._present.get(room, set())
        for identity in came:
            receiver.presence_changed(room, identity, True)
        self._seen_once.add(room)

    def _presence_heard(self, receiver: Receiver, room: str, data: bytes) -> None:
        """A process announced that an identity came into (``+``) or left (``-``) the room there."""
        node, _, name = data[2:].partition(b"\n")
        seen = self._seen.get(room)
        if seen is None:
            return
        identity, process = name.decode("utf-8", "replace"), node.decode("utf-8", "replace")
        processes = seen.get(identity)
        if data[1:2] == b"+":
            if processes is None:
                seen[identity] = {process}
                receiver.presence_changed(room, identity, True)
            else:
                processes.add(process)
        elif processes is not None:
            processes.discard(process)
            if not processes:
                del seen[identity]
                receiver.presence_changed(room, identity, False)

    async def _sweep_presence(self, receiver: Receiver) -> None:
        """Let go of the identities whose every process stopped beating (crashed): they left."""
        nodes = sorted({node for seen in self._seen.values() for processes in seen.values() for node in processes})
        dead = {node for node, alive in zip(nodes, await self._alive(nodes), strict=True) if not alive}
        if not dead:
            return
        for room, seen in list(self._seen.items()):
            for identity, processes in list(seen.items()):
                if processes & dead:
                    processes -= dead
                    if not processes:
                        del seen[identity]
                        receiver.presence_changed(room, identity, False)

    async def _heartbeat(self) -> None:
        """Renew this process's key, and rewrite its counts (they may be gone after a Redis restart); let go of
        the identities of crashed processes; and subscribe again to rooms whose subscription went unconfirmed."""
        unheard: set[str] = set()
        while self._client is not None:
            await anyio.sleep(HEARTBEAT)
            try:
                await self._again_once(self._beat)
                if self._receiver is not None and self._seen:
                    await self._sweep_presence(self._receiver)
                unheard = await self._resubscribe(unheard)
            except self._errors as exc:
                self._went_down(exc)
            except Exception:
                if self._client is None:
                    return
                logger.exception("the hub's heartbeat failed; trying again in %g s", HEARTBEAT)
            else:
                self._came_back()

    async def _resubscribe(self, before: set[str]) -> set[str]:
        """Subscribe again to the rooms still unconfirmed a heartbeat after the last look, saying so once each."""
        pubsub = self._pubsub
        if pubsub is None:
            return set()  # the link is down: the reader subscribes to every room once it is back
        unheard = self._rooms - self._heard
        stale = unheard & before
        if stale:
            logger.warning(
                "Redis at %s has not confirmed the subscription to %d rooms (%s); subscribing again",
                self.shown_url,
                len(stale),
                ", ".join(sorted(stale)[:5]) + (", ..." if len(stale) > 5 else ""),
            )
            self._doubtful |= stale  # what they missed meanwhile is caught up, or resynced, once confirmed
            await pubsub.subscribe(*(self._channel(room) for room in stale))
        return unheard - stale

    async def _beat(self) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.set(self._node, 1, ex=int(HEARTBEAT * 3))
            for room, count in self._counted.items():
                pipe.hset(self._members_key(room), self._node, count)
            for room, identities in self._present.items():
                for identity in identities:
                    pipe.hset(self._presence_key(room), self._field(identity), 1)
            await pipe.execute()

    # -- what a Redis Cluster does differently ---------------------------------------

    def _connect(self) -> Any:
        """A new client (not connected yet), and the errors that mean Redis is unreachable."""
        redis = self._redis
        self._errors = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        return redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    async def _close(self, client: Any) -> None:
        await client.aclose()

    async def _drop_idle(self, client: Any) -> None:
        """After a failed call: the pool's idle connections are as stale as the one that failed, so drop
        them, and the second try connects afresh."""
        await client.connection_pool.disconnect(inuse_connections=False)

    async def _subscribe_channel(self, room: str) -> None:
        """Subscribe the reader's link to ``room`` now if it is up (it subscribes by itself once it is)."""
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.subscribe(self._channel(room))
            except self._errors:
                logger.debug("subscribing to %r failed; the reader subscribes again once reconnected", room)
        self._wake.set()

    async def _unsubscribe_channel(self, room: str) -> None:
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.unsubscribe(self._channel(room))
            except self._errors:
                logger.debug("unsubscribing from %r failed", room)

    # -- helpers ---------------------------------------------------------------------

    async def _retrying(self, call: Any) -> Any:
        deadline = time.monotonic() + self.retry_for
        backoff = 0.05
        while True:
            if self._client is None:
                raise HubUnavailableError("the hub's Redis backend is not started")
            try:
                result = await self._again_once(call)
            except self._errors as exc:
                self._went_down(exc)
                if time.monotonic() + backoff > deadline:
                    raise HubUnavailableError(f"Redis at {self.shown_url} is unreachable: {exc}") from exc
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
            else:
                self._came_back()
                return result

    async def _again_once(self, call: Any) -> Any:
        """``call()``, and once more at once if it fails: after a restart, a pooled connection from before it
        fails its first use (closed by the server) while a fresh one works, and that is no outage."""
        try:
            return await call()
        except self._errors:
            client = self._client
            if client is None:
                raise
            await self._drop_idle(client)
            return await call()

    def _went_down(self, exc: BaseException) -> None:
        if self._client is None:
            return  # stopping: a call still in flight failed because the client closed under it, no outage
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._outage_began()
            self.outages += 1
            logger.warning("Redis at %s is unreachable (%s); sessions stay open, retrying", self.shown_url, exc)

    def _outage_began(self) -> None:
        """Whatever noticed it first: every room received may miss publications from now on."""
        self._doubtful |= self._rooms

    def _came_back(self) -> None:
        if self._down_since is not None:
            self.reconnections += 1
            logger.info(
                "Redis at %s is reachable again after %.1f s", self.shown_url, time.monotonic() - self._down_since
            )
            self._down_since = None

    def _channel(self, room: str) -> str:
        return f"{self.prefix}:room:{room}"

    def _members_key(self, room: str) -> str:
        return f"{self.prefix}:members:{room}"

    def _meta_key(self, room: str) -> str:
        return f"{self.prefix}:meta:{room}"

    def _history_key(self, room: str) -> str:
        return f"{self.prefix}:history:{room}"

    def _presence_key(self, room: str) -> str:
        return f"{self.prefix}:presence:{room}"

    def _announce(self, pipe: Any, room: str, data: bytes) -> None:
        """Queue in ``pipe`` the publication of ``data`` on the room's channel (presence news)."""
        pipe.publish(self._channel(room), data)

    def _field(self, identity: str) -> str:
        """This process's field of ``identity`` in a presence hash: the process's key, a newline, the identity."""
        return f"{self._node}\n{identity}"

    def _presence_event(self, identity: str, here: bool) -> bytes:
        return (b"p+" if here else b"p-") + self._node.encode() + b"\n" + identity.encode("utf-8")


def _split_field(field: bytes) -> tuple[str, str]:
    """A presence field's ``(identity, process key)``."""
    node, _, identity = field.partition(b"\n")
    return identity.decode("utf-8", "replace"), node.decode("utf-8", "replace")


def _pairs(values: list[bytes]) -> dict[bytes, bytes]:
    """A stream entry's ``[field, value, field, value, ...]`` as a dict (redis-py may give either)."""
    if isinstance(values, dict):
        return values
    return dict(zip(values[::2], values[1::2], strict=True))
