"""What telemetry costs: the echo with metrics and traces on (the OpenTelemetry SDK) against both off.

    python -m bench.metrics [--rounds 9] [--connections 2000] [--messages 20000]
    python -m bench.metrics --server uvicorn-sansio [--clients 1 10 100] [--rounds 12] [--window 0.25]

The server-free view of :mod:`bench.micro` (the ASGI messages made in memory,
so pyfly-ws's own work is all that is measured: the strictest view, since
behind a real server and a real client the same microseconds are a smaller
share of a round trip). Two applications per workload, identical but for
``create_app(..., telemetry=Telemetry(meter_provider=..., tracer_provider=...))``
over an SDK ``MeterProvider`` with an ``InMemoryMetricReader`` and an SDK
``TracerProvider`` recording every handshake's span, measured in one run,
interleaved: each round measures both, in alternating order, and the reader
collects between rounds (outside the timing), as a periodic reader would.
Workloads: the raw echo (``/echo`` of the ``pyfly-asgi`` target) and the typed
echo of message-level controllers (``/typed/dataclass``).

Prints the median microseconds per echoed message and per connection, and the
ratios on/off of round trips and connections per second (1.00: no cost).

With ``--server``, the round trips of real clients instead: the targets
``pyfly-asgi`` and ``pyfly-asgi-metrics`` (the same app with metrics on) behind
that server on CPU 0, and ``bench.load``'s picows clients on CPU 1, measured in
turn window by window as ``python -m bench`` does; the ratio on/off is the
median of the per-round ratios of round trips per second.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from pyfly_ws import Telemetry, create_app

from .micro import Work, _connections, _lifespan, _messages, _run
from .targets.pyfly import build_app, sdk_telemetry
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
    telemetry, reader = sdk_telemetry()
    apps = {"off": build(workload, None), "on": build(workload, telemetry)}
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


def behind(server: str, clients: list[int], rounds: int, window: float) -> None:
    """Round trips per second of real clients, metrics off and on, behind ``server``, interleaved."""
    from contextlib import ExitStack

    from .run import _client, _serve
    from .targets import METERED

    targets = ("pyfly-asgi", METERED)
    print(f"{'clients':>7} {'rt/s off':>10} {'rt/s on':>10} {'on/off':>7} {'p50 ms off':>10} {'p50 ms on':>10}")
    with ExitStack() as stack:
        served = {target: _serve(stack, server, target) for target in targets}
        names = [f"{target}={served[target].url}@{served[target].pid}" for target in targets]
        _client("echo", *names, "--clients", "10", "--rounds", "1", "--window", "0.2")  # both warmed alike
        for count in clients:
            timing = ["--rounds", str(rounds), "--window", str(window)]
            samples = _client("echo", *names, "--clients", str(count), "--size", "32", *timing)
            off, on = samples[targets[0]], samples[targets[1]]
            ratio = statistics.median(b["rate"] / a["rate"] for a, b in zip(off, on, strict=True))
            rates = [statistics.median(sample["rate"] for sample in side) for side in (off, on)]
            p50 = [statistics.median(sample["p50_ms"] for sample in side) for side in (off, on)]
            print(f"{count:>7} {rates[0]:>10.0f} {rates[1]:>10.0f} {ratio:>7.3f} {p50[0]:>10.3f} {p50[1]:>10.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--server", help="measure real clients behind this server (uvicorn-sansio, hypercorn...)")
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 10, 100])
    parser.add_argument("--window", type=float, default=0.25)
    args = parser.parse_args(argv)
    if args.server:
        behind(args.server, args.clients, args.rounds or 12, args.window)
        return
    args.rounds = args.rounds or 9
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
