"""``Telemetry`` and ``Prometheus``: what ``create_app(..., telemetry=..., metrics=...)`` reports, and where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..mapping.guards import Guard

__all__ = ["OTEL_MISSING", "Prometheus", "Telemetry"]

OTEL_MISSING = 'telemetry needs the OpenTelemetry API, which is not installed: pip install "pyfly-ws[otel]"'
"""The error a :class:`Telemetry` raises without the ``otel`` extra."""


@dataclass(frozen=True)
class Telemetry:
    """Where an application's metrics and traces go (the ``otel`` extra: ``pip install "pyfly-ws[otel]"``).

    pyfly-ws only speaks the OpenTelemetry API: it never configures an SDK or
    an exporter. ``meter_provider`` and ``tracer_provider`` default to the
    global ones (``opentelemetry.metrics.get_meter_provider()`` and
    ``opentelemetry.trace.get_tracer_provider()``), as instrumentation
    libraries do. ``message_spans`` gives each message of a message-level
    endpoint a short trace of its own, linked to its connection's span (off by
    default: a span per message costs more than the message). ``enabled=False``
    switches everything off, as if no ``telemetry`` were given.
    """

    meter_provider: Any = None
    """An ``opentelemetry.metrics.MeterProvider``, or ``None`` for the global one."""
    tracer_provider: Any = None
    """An ``opentelemetry.trace.TracerProvider``, or ``None`` for the global one."""
    message_spans: bool = False
    """Whether each message of a message-level endpoint gets a span of its own."""
    enabled: bool = True
    """Whether the application reports anything at all."""

    def __post_init__(self) -> None:
        for name in ("message_spans", "enabled"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TypeError(f"Telemetry({name}=...) is True or False, got {value!r}")


@dataclass(frozen=True)
class Prometheus:
    """The Prometheus page of ``create_app(..., metrics=...)``: where it is served, and who may read it.

    ``path`` answers ``GET`` with the text exposition format (the
    ``prometheus`` extra: ``pip install "pyfly-ws[prometheus]"``);
    ``guards`` run on every request, as an endpoint's guards run on a handshake.
    """

    path: str = "/metrics"
    guards: Sequence[Guard] = ()
