"""``RedisBackend``: rooms shared by every process connected to one Redis, through its pub/sub.

Each room is a Redis channel (``PREFIX:room:ROOM``); one reader task per
process receives the rooms it has members in. Member counts live in one hash
per room (``PREFIX:members:ROOM``, a field per process), and a process counts
only while its heartbeat key (``PREFIX:node:ID``, renewed every few seconds)
exists, so a crashed process drops out of the counts by itself.

When Redis is unreachable or restarts: sessions stay open; a publication is
retried with backoff for ``retry_for`` seconds, then fails with
:class:`~pyfly_ws.hub.HubUnavailableError` (the members in this process have
it already); the reader reconnects with backoff and subscribes again to every
room by itself. The outage and the recovery are each logged once. Publications
made while Redis is down are not replayed (pub/sub keeps no history).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskGroup

from ..exceptions import MissingDependencyError
from .backend import Deliver, HubUnavailableError

__all__ = ["RedisBackend"]

logger = logging.getLogger("pyfly_ws.hub")

HEARTBEAT = 5.0
"""Seconds between renewals of this process's heartbeat key (it expires after three times this)."""


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
        self._counted: dict[str, int] = {}
        self._wake = anyio.Event()
        self._node = ""
        self._down_since: float | None = None
        self.outages = 0
        """Times Redis became unreachable (each outage once, however long)."""
        self.reconnections = 0
        """Times Redis became reachable again after an outage."""

    def __repr__(self) -> str:
        return f"<RedisBackend {self.shown_url}>"

    # -- the contract ------------------------------------------------------------

    async def start(self, deliver: Deliver, tasks: TaskGroup) -> None:
        """Connect (retrying for ``retry_for`` seconds), and start the reader and the heartbeat.

        Raises :class:`~pyfly_ws.hub.HubUnavailableError`, with one line naming
        the URL and the cause, if Redis cannot be reached in that time.
        """
        redis = self._redis
        self._errors = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        client = self._client = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
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
                        await client.aclose()
                    cause = str(exc) or type(exc).__name__
                    raise HubUnavailableError(
                        f"the hub cannot start: Redis at {self.shown_url} is unreachable ({cause}); "
                        f"tried for {self.retry_for:g} s"
                    ) from None
                logger.debug("Redis at %s is not reachable yet (%s); retrying", self.shown_url, exc)
                await anyio.sleep(min(backoff, remaining))  # the last attempt at the deadline
                backoff = min(backoff * 2, 1.0)
        tasks.start_soon(self._read, deliver)
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
                    pipe.delete(self._node)
                    await pipe.execute()
        except self._errors:
            logger.debug("could not remove this process's counts from Redis", exc_info=True)
        finally:
            self._counted.clear()
            await client.aclose()

    async def subscribe(self, room: str) -> None:
        """Receive ``room`` from now on (again after every reconnection)."""
        self._rooms.add(room)
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.subscribe(self._channel(room))
            except self._errors:
                logger.debug("subscribing to %r failed; the reader subscribes again once reconnected", room)
        self._wake.set()

    async def unsubscribe(self, room: str) -> None:
        """Stop receiving ``room``."""
        self._rooms.discard(room)
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.unsubscribe(self._channel(room))
            except self._errors:
                logger.debug("unsubscribing from %r failed", room)

    async def publish(self, room: str, envelope: bytes) -> None:
        """``PUBLISH`` to the room's channel, retrying with backoff for ``retry_for`` seconds."""
        await self._retrying(lambda: self._client.publish(self._channel(room), envelope))

    async def add_members(self, room: str, delta: int) -> None:
        """``HINCRBY`` this process's field of the room's count."""
        count = self._counted.get(room, 0) + delta
        if count > 0:
            self._counted[room] = count
        else:
            self._counted.pop(room, None)
        try:
            if count > 0:
                await self._client.hset(self._members_key(room), self._node, count)
            else:
                await self._client.hdel(self._members_key(room), self._node)
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

    # -- background work -----------------------------------------------------------

    async def _read(self, deliver: Deliver) -> None:
        """Receive publications; reconnect with backoff and subscribe again whenever Redis goes away."""
        backoff = 0.1
        prefix = f"{self.prefix}:room:".encode()
        while self._client is not None:
            pubsub = self._client.pubsub()
            try:
                while not self._rooms:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                await pubsub.subscribe(*(self._channel(room) for room in self._rooms))
                self._pubsub = pubsub
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "subscribe":
                        # Redis answered (a write alone may go to a connection from before a restart)
                        self._came_back()
                        backoff = 0.1
                    if message is None or message.get("type") != "message":
                        if not pubsub.subscribed and self._rooms:
                            await pubsub.subscribe(*(self._channel(room) for room in self._rooms))
                        continue
                    channel: bytes = message["channel"]
                    if channel.startswith(prefix):
                        deliver(channel[len(prefix) :].decode("utf-8"), message["data"])
            except self._errors as exc:
                self._went_down(exc)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                self._pubsub = None
                with anyio.CancelScope(shield=True):
                    try:
                        await pubsub.aclose()
                    except Exception:
                        logger.debug("closing a Redis pub/sub connection failed", exc_info=True)

    async def _heartbeat(self) -> None:
        """Renew this process's key, and rewrite its counts (they may be gone after a Redis restart)."""
        while self._client is not None:
            await anyio.sleep(HEARTBEAT)
            try:
                await self._again_once(self._beat)
            except self._errors as exc:
                self._went_down(exc)
            else:
                self._came_back()

    async def _beat(self) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.set(self._node, 1, ex=int(HEARTBEAT * 3))
            for room, count in self._counted.items():
                pipe.hset(self._members_key(room), self._node, count)
            await pipe.execute()

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
            if self._client is None:
                raise
            return await call()

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.outages += 1
            logger.warning("Redis at %s is unreachable (%s); sessions stay open, retrying", self.shown_url, exc)

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
