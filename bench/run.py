"""One benchmark run: every target behind each server, figure by figure, interleaved A B A B.

For each server, every target is started at once (one process each, on CPU 0). Each
echo, typed echo or connect figure is then measured by one ``bench.load`` process on CPU 1 that
holds connections to all targets and measures them in turn, window by window, the
order turning each round: many short interleaved windows rather than a few long runs,
so drift on the machine falls on every target alike. Samples land in a
:class:`Results` that :mod:`bench.report` summarises.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyfly_ws_conformance.servers import Served, serving

from . import procs
from .targets import ADAPTERS, HAND, TARGETS, TYPED_ADAPTERS, TYPED_HAND, TYPED_KINDS, TYPED_TARGETS

ROOT = str(Path(__file__).resolve().parents[1])
SERVER_CPU, CLIENT_CPU = 0, 1

Samples = dict[str, dict[str, dict[str, list[dict[str, float]]]]]
"""server -> target -> figure -> one dict of metrics per repetition."""


@dataclass(frozen=True)
class Plan:
    """What a run measures and for how long."""

    servers: tuple[str, ...] = ("uvicorn-sansio", "uvicorn-websockets", "uvicorn-wsproto", "hypercorn", "granian")
    adapters: tuple[str, ...] = ADAPTERS
    clients: tuple[int, ...] = (1, 10, 100)
    sizes: tuple[int, ...] = (32, 16384)
    rounds: int = 12
    window: float = 0.25
    warmup: float = 0.1
    connect_concurrency: int = 10
    idle_count: int = 2000
    broadcast_sessions: int = 1000
    broadcast_rounds: int = 5
    redis: bool = True
    standard: bool = True
    """Whether the echo, connect, memory and broadcast figures are measured (``False``: the typed echo only)."""
    typed_servers: tuple[str, ...] = ("uvicorn-sansio",)
    """The servers (of ``servers``) the typed echo is measured on."""
    typed_kinds: tuple[str, ...] = TYPED_KINDS
    typed_clients: tuple[int, ...] = (10, 100)
    typed_size: int = 32

    def targets(self) -> list[str]:
        """The targets the chosen adapters need: each one's pyfly-ws endpoint and what it is compared with."""
        if not self.standard:
            return []
        wanted = {f"pyfly-{a}" for a in self.adapters} | {HAND[a] for a in self.adapters} | {"raw"}
        if "asgi" in self.adapters:
            wanted.add(HAND["starlette"])  # the asgi adapter must beat hand-written Starlette
        return [t for t in TARGETS if t in wanted]

    def typed_targets(self) -> list[str]:
        """The typed echo's targets for the chosen adapters: message-level controllers and their hand-written twins."""
        chosen = [a for a in TYPED_ADAPTERS if a in self.adapters]
        wanted = {f"msg-pyfly-{a}" for a in chosen} | {TYPED_HAND[a] for a in chosen}
        return [t for t in TYPED_TARGETS if t in wanted]

    def typed_figures(self) -> list[str]:
        """The typed echo's figures."""
        return [
            typed_figure(kind, clients, self.typed_size) for kind in self.typed_kinds for clients in self.typed_clients
        ]


def typed_figure(kind: str, clients: int, size: int) -> str:
    """The name of a typed echo figure: ``typed echo KIND Nc SIZEB``."""
    return f"typed echo {kind} {clients}c {size}B"


@dataclass
class Results:
    """Everything one run measured, with how it was measured."""

    plan: Plan
    samples: Samples = field(default_factory=dict)

    def add(self, server: str, target: str, figure: str, sample: dict[str, float]) -> None:
        self.samples.setdefault(server, {}).setdefault(target, {}).setdefault(figure, []).append(sample)


def expected_figures(plan: Plan) -> list[str]:
    """Every figure a run of ``plan`` measures for each target (broadcast over Redis: pyfly-ws targets only)."""
    echo = [f"echo {clients}c {size}B" for size in plan.sizes for clients in plan.clients]
    return ["idle memory", *echo, "connect", "broadcast memory"]


def missing(results: Results) -> list[str]:
    """What the plan asked for and the run did not measure, as ``server target figure`` lines (empty when whole)."""
    plan = results.plan
    gaps = []
    for server in plan.servers:
        wanted = []
        for target in plan.targets():
            figures = expected_figures(plan)
            if plan.redis and target.startswith("pyfly-"):
                figures.append("broadcast redis")
            wanted += [(target, figure) for figure in figures]
        if server in plan.typed_servers:
            wanted += [(target, figure) for target in plan.typed_targets() for figure in plan.typed_figures()]
        for target, figure in wanted:
            if not results.samples.get(server, {}).get(target, {}).get(figure):
                gaps.append(f"{server} {target} {figure}")
    return gaps


def _client(*args: str, timeout: float = 900) -> dict[str, Any]:
    """Run one ``bench.load`` process on the client CPU and return the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--cpu", str(CLIENT_CPU), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.load {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _idle_memory(served: Served, count: int) -> dict[str, float]:
    """Bytes of server RSS per idle open session: with ``count`` open, minus with none."""
    time.sleep(0.3)
    before = procs.rss(served.pid)
    holder = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--cpu", str(CLIENT_CPU), "idle", served.url, "--count", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        line = holder.stdout.readline()
        if not line:
            raise RuntimeError(f"the idle client exited with {holder.wait()} before opening {count} sessions")
        time.sleep(0.5)
        after = procs.rss(served.pid)
        holder.stdin.close()
        holder.wait(60)
    finally:
        holder.kill()
    return {"bytes_per_connection": (after - before) / count, "rss_before": before, "rss_after": after}


def _broadcast(urls: list[str], plan: Plan) -> dict[str, float]:
    args = ["--sessions", str(plan.broadcast_sessions), "--rounds", str(plan.broadcast_rounds)]
    times = _client("broadcast", *urls, *args)["times"]
    ordered = sorted(times)
    return {"median_ms": ordered[len(ordered) // 2] * 1000, "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000}


def _serve(stack: ExitStack, server: str, target: str, extra: dict[str, str] | None = None) -> Served:
    env = {"BENCH_TARGET": target, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    return stack.enter_context(serving(server, "bench.serve:app", env={**env, **(extra or {})}))


def measure_server(server: str, plan: Plan, results: Results, log: Callable[[str], None]) -> None:
    """Every figure for every target of ``plan`` behind ``server``."""
    targets = plan.targets()
    with ExitStack() as stack:
        served = {target: _serve(stack, server, target) for target in targets}
        names = [f"{target}={served[target].url}@{served[target].pid}" for target in targets]
        _client("echo", *names, "--clients", "10", "--rounds", "1", "--window", "0.2")  # every target warmed alike
        for target in targets:  # first on fresh servers, so the allocator's earlier peaks do not hide it
            results.add(server, target, "idle memory", _idle_memory(served[target], plan.idle_count))
            log(f"{server} {target}: idle memory measured")
        figures: list[tuple[str, list[str]]] = [
            (f"echo {clients}c {size}B", ["echo", "--clients", str(clients), "--size", str(size)])
            for size in plan.sizes
            for clients in plan.clients
        ]
        figures.append(("connect", ["connect", "--concurrency", str(plan.connect_concurrency)]))
        for figure, args in figures:
            timing = ["--rounds", str(plan.rounds), "--window", str(plan.window)]
            if args[0] == "echo":
                timing += ["--warmup", str(plan.warmup)]
            for target, samples in _client(*args, *names, *timing).items():
                for sample in samples:
                    results.add(server, target, figure, sample)
            log(f"{server}: {figure} measured")
        for target in targets:
            results.add(server, target, "broadcast memory", _broadcast([served[target].url], plan))
        log(f"{server}: broadcast measured")


def measure_typed(server: str, plan: Plan, results: Results, log: Callable[[str], None]) -> None:
    """The typed echo behind ``server``: each payload kind and number of clients, every typed target interleaved."""
    targets = plan.typed_targets()
    if not targets:
        return
    with ExitStack() as stack:
        served = {target: _serve(stack, server, target) for target in targets}
        names = [f"{target}={served[target].url}@{served[target].pid}" for target in targets]
        timing = ["--rounds", str(plan.rounds), "--window", str(plan.window), "--warmup", str(plan.warmup)]
        for clients in plan.typed_clients:
            args = ["typed", "--kinds", *plan.typed_kinds, "--clients", str(clients), "--size", str(plan.typed_size)]
            for kind, by_target in _client(*args, *names, *timing).items():
                figure = typed_figure(kind, clients, plan.typed_size)
                for target, samples in by_target.items():
                    for sample in samples:
                        results.add(server, target, figure, sample)
                log(f"{server}: {figure} measured")


def measure_redis(server: str, plan: Plan, results: Results, log: Callable[[str], None]) -> None:
    """Broadcast through the Redis hub: the sessions spread over two server processes of each pyfly-ws target."""
    from tests.redis.redis_server import redis_server

    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        for adapter in plan.adapters:
            target = f"pyfly-{adapter}"
            with ExitStack() as pair:
                urls = [_serve(pair, server, target, {"BENCH_REDIS_URL": redis.url}).url for _ in range(2)]
                results.add(server, target, "broadcast redis", _broadcast(urls, plan))
        log(f"{server}: broadcast over Redis measured")


def run(plan: Plan, log: Callable[[str], None] = print) -> Results:
    """Measure everything ``plan`` asks for; the servers run on CPU 0 and the clients on CPU 1."""
    if len(os.sched_getaffinity(0)) < 2:
        raise RuntimeError("the benchmark needs two CPUs: one for the servers, one for the load generator")
    results = Results(plan)
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {SERVER_CPU})  # the servers inherit it
    try:
        for server in plan.servers:
            if plan.standard:
                measure_server(server, plan, results, log)
            if plan.redis:
                measure_redis(server, plan, results, log)
            if server in plan.typed_servers:
                measure_typed(server, plan, results, log)
    finally:
        os.sched_setaffinity(0, mask)
    return results
