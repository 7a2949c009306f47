"""What metrics cost: the echo with metrics on (the OpenTelemetry SDK reading into memory) against metrics off.

    python -m bench.metrics [--rounds 9] [--connections 2000] [--messages 20000]

The server-free view of :mod:`bench.micro` (the ASGI messages made in memory,
so pyfly-ws's own work is all that is measured: the strictest view, since
behind a real server and a real client the same microseconds are a smaller
share of a round trip). Two applications per workload, identical but for
``create_app(..., telemetry=Telemetry(meter_provider=...))`` over an SDK
``MeterProvider`` with an ``InMemoryMetricReader``, measured in one run,
interleaved: each round measures both, in alternating order, and the reader
collects between rounds (outside the timing), as a periodic reader would.
Workloads: the raw echo (``/echo`` of the ``pyfly-asgi`` target) and the typed
echo of message-level controllers (``/typed/dataclass``).

Prints the median microseconds per echoed message and per connection, and the
ratios on/off of round trips and connections per second (1.00: no cost).
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from pyfly_ws import Telemetry, create_app

from .micro import Work, _connections, _lifespan, _messages, _run
from .targets.pyfly import build_app
from .targets.typed import DataclassEcho, MsgspecEcho, PydanticEcho

WORKLOADS = ("echo", "typed")


def build(workload: str, telemetry: Telemetry | None) -> Any:
    """The application of ``workload``, with ``telemetry`` (metrics on) or without (off)."""
    if workload == "echo":
        return build_app("asgi", telemetry)
    return create_app([DataclassEcho, PydanticEcho, MsgspecEcho], "asgi", telemetry=telemetry)


def work(workload: str) -> Work:
    return Work.of("pyfly-asgi" if workload == "echo" else "msg-pyfly-asgi/dataclass")


async def compare(workload: str, rounds: int, connections: int, messages: int) -> dict[str, list[float]]:
    """Per round, µs per message and per connection, off and on, measured alternately."""
    reader = InMemoryMetricReader()
    apps = {"off": build(workload, None), "on": build(workload, Telemetry(meter_provider=MeterProvider([reader])))}
    job = work(workload)
    stops = {name: await _lifespan(app) for name, app in apps.items()}
    figures: dict[str, list[float]] = {f"{name} {what}": [] for name in apps for what in ("message", "connection")}
    try:
        for app in apps.values():  # warm up both
            await _connections(app, 100, job)
            await _messages(app, 1000, job)
        for round_ in range(rounds):
            order = ("off", "on") if round_ % 2 == 0 else ("on", "off")
            for name in order:
                figures[f"{name} message"].append(await _messages(apps[name], messages, job))
                figures[f"{name} connection"].append(await _connections(apps[name], connections, job))
            reader.get_metrics_data()  # a collection, as a periodic reader makes
    finally:
        for stop in stops.values():
            await stop()
    counted = _messages_counted(reader)
    expected = 1000 + rounds * messages + connections * rounds + 100
    if counted != expected:
        raise RuntimeError(f"the metrics counted {counted} messages in, not {expected}")
    return figures


def _messages_counted(reader: InMemoryMetricReader) -> int:
    data = reader.get_metrics_data()
    total = 0
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "pyfly_ws.messages":
                    for point in metric.data.data_points:
                        if point.attributes and point.attributes.get("direction") == "in":
                            total += int(point.value)  # type: ignore[union-attr]
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args(argv)
    print(f"{'workload':<8} {'µs/msg off':>10} {'µs/msg on':>10} {'msg/s on/off':>13}", end="")
    print(f" {'µs/conn off':>12} {'µs/conn on':>11} {'conn/s on/off':>14}")
    for workload in args.workloads:
        figures = _run(compare(workload, args.rounds, args.connections, args.messages))
        median = {name: statistics.median(values) for name, values in figures.items()}
        message_ratio = median["off message"] / median["on message"]
        connection_ratio = median["off connection"] / median["on connection"]
        print(
            f"{workload:<8} {median['off message']:>10.2f} {median['on message']:>10.2f} {message_ratio:>13.3f}"
            f" {median['off connection']:>12.1f} {median['on connection']:>11.1f} {connection_ratio:>14.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
