"""The application's figures as OpenTelemetry instruments, through the API only (the ``otel`` extra).

pyfly-ws never configures an SDK or an exporter: it asks the meter provider it
is given, or the global one, for a meter named ``pyfly_ws``, as an
instrumentation library does. Every counter is an *observable* one whose
callback reads the in-process tallies when a reader collects, so no message
pays for an OpenTelemetry call (a counter ``add`` costs more than a message
on the raw path); only ``session.duration``, once per session, records into
a histogram directly.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import MissingDependencyError
from .readings import INSTRUMENTS, Readings

__all__ = ["OTEL_MISSING", "start_metrics"]

OTEL_MISSING = 'metrics need the OpenTelemetry API, which is not installed: pip install "pyfly-ws[otel]"'


def _otel_metrics() -> Any:
    try:
        from opentelemetry import metrics
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != "opentelemetry" and not exc.name.startswith("opentelemetry."):
            raise  # something the API itself needs
        missing = MissingDependencyError(OTEL_MISSING)
        missing.name = "opentelemetry"
        raise missing from None
    return metrics


def start_metrics(readings: Readings, meter_provider: Any = None) -> Any:
    """Create every instrument on ``meter_provider`` (or the global one), reading ``readings``; the meter."""
    metrics = _otel_metrics()
    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    meter = provider.get_meter("pyfly_ws", _version())
    observation = metrics.Observation
    for instrument in INSTRUMENTS:
        if instrument.kind == "histogram":
            histogram = meter.create_histogram(
                instrument.name, unit=instrument.unit, description=instrument.description
            )
            readings.figures.session_ended.append(_recorder(histogram))
            continue
        create = meter.create_observable_counter
        if instrument.kind == "up_down_counter":
            create = meter.create_observable_up_down_counter
        callback = _callback(readings, instrument.name, observation)
        create(instrument.name, callbacks=[callback], unit=instrument.unit, description=instrument.description)
    return meter


def _version() -> str | None:
    try:
        return importlib.metadata.version("pyfly-ws")
    except importlib.metadata.PackageNotFoundError:
        return None


def _recorder(histogram: Any) -> Callable[[str, float], None]:
    def record(endpoint: str, seconds: float) -> None:
        histogram.record(seconds, {"endpoint": endpoint})

    return record


def _callback(readings: Readings, name: str, observation: Any) -> Callable[[Any], Iterable[Any]]:
    def observe(options: Any) -> Iterable[Any]:
        return [observation(value, attributes) for attributes, value in readings.rows(name)]

    return observe
