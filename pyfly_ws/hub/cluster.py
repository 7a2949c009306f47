"""``RedisClusterBackend``: the Redis hub on a Redis Cluster (7 or later), rooms spread over its slots.

Everything :class:`~pyfly_ws.hub.RedisBackend` does, with sharded pub/sub
(``SSUBSCRIBE``/``SPUBLISH``): a room's channel and keys share one hash tag,
the room's name (``PREFIX:{ROOM}:room``, ``PREFIX:{ROOM}:members``,
``PREFIX:{ROOM}:meta``, ``PREFIX:{ROOM}:history``), so they live on one node,
and the one script that numbers, keeps and publishes a publication runs there.
Braces and ``%`` in a room's name are written ``%7B``, ``%7D`` and ``%25`` in
the tag (the empty name as ``%``), so no name can change its tag.

One reader task per master node holds a plain connection to it, subscribed to
the channels of the rooms it owns. When a node fails, only its rooms are
unheard: its reader reconnects with backoff and subscribes again, then catches
up the rooms with history from their streams (kept if the node persists them)
and tells the members of the others to resync. Commands go through redis-py's
cluster client, which follows the slot map; the readers' connections are their
own, since a cluster client that meets ``CLUSTERDOWN`` drops every connection it
has. The outage ends, counted and logged once, when every reader hears again and
every master says ``cluster_state:ok``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import anyio

from .backend import HubUnavailableError, Receiver, members_rooms
from .redis import RedisBackend, redacted

__all__ = ["RedisClusterBackend"]

logger = logging.getLogger("pyfly_ws.hub")

SCHEME = "redis+cluster://"
"""The scheme of a hub URL naming a Redis Cluster: ``redis+cluster://host:port[,host:port...][/0][?options]``."""


def startup_urls(url: str) -> list[str]:
    """The ``redis://`` URL of each startup node a ``redis+cluster://`` URL names (the others kept as they are)."""
    if not url.startswith(SCHEME):
        return [url]
    rest = url[len(SCHEME) :]
    netloc, slash, tail = rest.partition("/")
    if not slash:
        netloc, question, query = netloc.partition("?")
        tail = f"?{query}" if question else ""
        slash = "/" if question else ""
    user, at, hosts = netloc.rpartition("@")
    return [f"redis://{user}{at}{host}{slash}{tail}" for host in hosts.split(",") if host]


def room_tag(room: str) -> str:
    """The hash tag of ``room``'s keys and channel: its name with ``%``, ``{`` and ``}`` escaped, never empty."""
    if not room:
        return "%"
    return room.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


def tag_room(tag: str) -> str:
    """The room whose :func:`room_tag` is ``tag``."""
    return "" if tag == "%" else unquote(tag)


class _Link:
    """The reader of one master node: its connection, and the rooms subscribed on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pubsub: Any = None
        self.rooms: set[str] = set()
        """Rooms subscribed on the current connection."""
        self.wake = anyio.Event()


class RedisClusterBackend(RedisBackend):
    """Publications and member counts shared through a Redis Cluster, with sharded pub/sub (Redis 7+)."""

    _PUBLISH: ClassVar[str] = "SPUBLISH"

    def __init__(self, urls: str | Sequence[str], *, prefix: str = "pyfly-ws", retry_for: float = 5.0) -> None:
        """``urls``: one or more startup nodes, ``redis://host:port/0`` (or one ``redis+cluster://`` URL)."""
        startup = [url for given in ([urls] if isinstance(urls, str) else urls) for url in startup_urls(given)]
        if not startup:
            raise ValueError("a Redis Cluster needs at least one startup URL")
        for url in startup:
            if not url.startswith(("redis://", "rediss://")):
                raise ValueError(f"a Redis Cluster URL starts with redis:// or rediss://, got {redacted(url)!r}")
        if "{" in prefix or "}" in prefix:
            raise ValueError(
                f"a Redis Cluster prefix cannot hold braces (they would be its keys' hash tag): {prefix!r}"
            )
        super().__init__(startup[0], prefix=prefix, retry_for=retry_for)
        self.urls = startup
        """The startup nodes' URLs: the client learns the others from them."""
        self.shown_url = ", ".join(redacted(url) for url in startup)
        self._links: dict[str, _Link] = {}
        self._owners: dict[str, str] = {}
        """The node last known to own each room to receive (kept while the slot map is being learned again)."""
        self._down: set[str] = set()
        """Nodes whose reader lost its connection and has not had a confirmation since."""
        self._doubtful: set[str] = set()
        """Rooms heard on a lost connection, not heard again yet: they may have missed publications."""

    def __repr__(self) -> str:
        return f"<RedisClusterBackend {self.shown_url}>"

    @property
    def unheard_rooms(self) -> int:
        """Rooms to receive whose subscription their node has not confirmed on its current link."""
        return members_rooms(self._rooms - self._heard)

    async def publish(self, room: str, envelope: bytes) -> None:
        """``SPUBLISH`` to the room's channel, retrying with backoff for ``retry_for`` seconds."""
        await self._retrying(lambda: self._client.spublish(self._channel(room), envelope))

    # -- the overridden steps ----------------------------------------------------------

    def _connect(self) -> Any:
        redis = self._redis
        exceptions = redis.exceptions
        self._errors = (
            OSError,
            exceptions.ConnectionError,
            exceptions.TimeoutError,
            exceptions.ClusterError,  # CLUSTERDOWN, MASTERDOWN
            exceptions.TryAgainError,
            exceptions.RedisClusterException,  # no startup node reachable, a slot not covered
        )
        from redis.asyncio.cluster import ClusterNode, RedisCluster
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        others = [urlsplit(url) for url in self.urls[1:]]
        nodes = [ClusterNode(parts.hostname or "127.0.0.1", parts.port or 6379) for parts in others]
        # No retries inside redis-py: _retrying backs off for retry_for seconds itself.
        return RedisCluster.from_url(
            self.url,
            startup_nodes=nodes or None,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )

    async def _close(self, client: Any) -> None:
        await client.aclose()
        # After a failed command the client takes itself for uninitialized, and aclose() closes nothing.
        await client.nodes_manager.aclose()
        await client.nodes_manager.aclose("startup_nodes")

    async def _drop_idle(self, client: Any) -> None:
        """Nothing to drop: after a failed command the cluster client maps the nodes again by itself."""

    async def _subscribe_channel(self, room: str) -> None:
        link = self._link_of(room)
        if link is not None:
            if link.pubsub is not None:
                try:
                    link.rooms.add(room)
                    await link.pubsub.ssubscribe(self._channel(room))
                except self._errors:
                    logger.debug("subscribing to %r failed; the reader subscribes again once reconnected", room)
            link.wake.set()
        self._wake.set()

    async def _unsubscribe_channel(self, room: str) -> None:
        self._doubtful.discard(room)
        link = self._link_of(room)
        if link is None:
            return
        link.rooms.discard(room)
        self._owners.pop(room, None)
        if link.pubsub is not None:
            try:
                await link.pubsub.sunsubscribe(self._channel(room))
            except self._errors:
                logger.debug("unsubscribing from %r failed", room)

    def _outage_began(self) -> None:
        """Nothing for every room: each node's reader marks its own rooms as it loses its link."""

    def _came_back(self) -> None:
        if not self._down:  # reachable again only once every node's reader is
            super()._came_back()

    def _channel(self, room: str) -> str:
        return f"{self.prefix}:{{{room_tag(room)}}}:room"

    def _members_key(self, room: str) -> str:
        return f"{self.prefix}:{{{room_tag(room)}}}:members"

    def _meta_key(self, room: str) -> str:
        return f"{self.prefix}:{{{room_tag(room)}}}:meta"

    def _history_key(self, room: str) -> str:
        return f"{self.prefix}:{{{room_tag(room)}}}:history"

    def _presence_key(self, room: str) -> str:
        return f"{self.prefix}:{{{room_tag(room)}}}:presence"

    def _announce(self, pipe: Any, room: str, data: bytes) -> None:
        pipe.spublish(self._channel(room), data)

    def _room_of(self, channel: bytes) -> str | None:
        """The room whose channel is ``channel``, if it is one of this prefix's."""
        name = channel.decode("utf-8", "replace")
        head, tail = f"{self.prefix}:{{", "}:room"
        if not (name.startswith(head) and name.endswith(tail)) or len(name) < len(head) + len(tail):
            return None
        return tag_room(name[len(head) : -len(tail)])

    # -- the readers ---------------------------------------------------------------------

    def _node_of(self, room: str) -> str | None:
        """The name (``host:port``) of the master node owning ``room``'s slot, as the client last learned it."""
        client = self._client
        node = None
        if client is not None:
            with contextlib.suppress(self._redis.exceptions.RedisClusterException):  # the slot map is not known now
                node = client.get_node_from_key(self._channel(room))
        if node is None:
            return self._owners.get(room)
        name = self._owners[room] = str(node.name)
        return name

    def _link_of(self, room: str) -> _Link | None:
        name = self._node_of(room)
        return None if name is None else self._links.get(name)

    def _rooms_on(self, link: _Link) -> set[str]:
        return {room for room in self._rooms if self._node_of(room) == link.name}

    async def _listen(self, receiver: Receiver) -> None:
        """Start a reader for every master node that owns a room to receive (nodes learned later included)."""
        async with anyio.create_task_group() as readers:
            while self._client is not None:
                for room in list(self._rooms):
                    name = self._node_of(room)
                    if name is not None and name not in self._links:
                        link = self._links[name] = _Link(name)
                        readers.start_soon(self._read_node, receiver, link)
                self._wake = anyio.Event()
                with anyio.move_on_after(1.0):
                    await self._wake.wait()
            readers.cancel_scope.cancel()

    async def _read_node(self, receiver: Receiver, link: _Link) -> None:
        """Receive one node's rooms; reconnect with backoff and subscribe again whenever the node goes away."""
        backoff = 0.1
        while self._client is not None:
            node = None
            pubsub = None
            try:
                while not self._rooms_on(link):
                    self._down.discard(link.name)  # nothing to hear there
                    link.wake = anyio.Event()
                    with anyio.move_on_after(1.0):
                        await link.wake.wait()
                    if self._client is None:
                        return
                node = self._node_client(link.name)
                pubsub = node.pubsub()
                rooms = link.rooms = self._rooms_on(link)
                for room in list(rooms):  # one slot per SSUBSCRIBE
                    await pubsub.ssubscribe(self._channel(room))
                link.pubsub = pubsub  # from now on subscribe() subscribes by itself
                for room in self._rooms_on(link) - rooms:  # joined while the link came up
                    rooms.add(room)
                    await pubsub.ssubscribe(self._channel(room))
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    kind = None if message is None else message.get("type")
                    if kind == "smessage" or kind == "ssubscribe":
                        heard = self._room_of(message["channel"])
                        if heard is None:
                            continue
                        if kind == "smessage":
                            await self._arrived(receiver, heard, message["data"])
                            continue
                        backoff = 0.1
                        await self._confirmed(receiver, link, heard)
                    elif message is None and self._client is None:
                        return
            except self._errors as exc:
                self._link_lost(link)
                self._down.add(link.name)
                self._went_down(exc)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except self._redis.exceptions.AskError as exc:  # MOVED or ASK: a slot of ours is served elsewhere now
                self._link_lost(link)
                logger.info("a room's slot moved away from node %s (%s); learning the slot map again", link.name, exc)
                try:
                    await self._client.nodes_manager.initialize()
                except self._errors:
                    logger.debug("learning the slot map failed", exc_info=True)
                self._wake.set()
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                if self._client is None:
                    return  # stopping: the client closed under a call in progress
                logger.exception("the reader of node %s failed; reconnecting", link.name)
                self._link_lost(link)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                link.pubsub = None
                with anyio.CancelScope(shield=True):
                    for closing in (pubsub, node):
                        if closing is not None:
                            try:
                                await closing.aclose()
                            except Exception:
                                logger.debug("closing a Redis Cluster node connection failed", exc_info=True)

    def _link_lost(self, link: _Link) -> None:
        """Its rooms heard so far may miss publications: unheard until confirmed again, then caught up."""
        lost = self._heard & (link.rooms | self._rooms_on(link))
        self._doubtful |= lost
        self._heard -= lost

    async def _confirmed(self, receiver: Receiver, link: _Link, room: str) -> None:
        """Node ``link`` confirmed the subscription to ``room``: follow it, or catch it up if it was lost."""
        # heard already on this connection: redis-py reconnected it by itself, publications may be lost
        again = room in self._doubtful or room in self._heard
        backoff = 0.1
        while True:
            try:
                if link.name in self._down:
                    # Its node is back; the outage is over once the whole cluster serves keys again.
                    await self._retrying(self._cluster_ok)
                    self._down.discard(link.name)
                    self._came_back()
                await self._subscribed(receiver, room, again=again)
                break
            except HubUnavailableError:
                if self._client is None:
                    return
                logger.debug("following room %r after node %s came back failed; trying again", room, link.name)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        self._doubtful.discard(room)

    async def _cluster_ok(self) -> None:
        """Raise ``ClusterDownError`` unless every master says ``cluster_state:ok``."""
        client = self._client
        states = await client.cluster_info(target_nodes=client.get_primaries())
        down = sorted(str(name) for name, info in states.items() if info.get("cluster_state") != "ok")
        if down:
            raise self._redis.exceptions.ClusterDownError(f"the cluster is down for {', '.join(down)}")

    def _node_client(self, name: str) -> Any:
        """A plain client for node ``name`` (``host:port``), with the first startup URL's options."""
        parts = urlsplit(self.url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@{name}" if user else name
        url = parts._replace(netloc=netloc).geturl()
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: a lost connection must reach the reader (a silent reconnection would hide lost publications).
        return self._redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )
