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
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import MissingDependencyError
from .options import OTEL_MISSING
from .readings import INSTRUMENTS, Attributes, Readings

__all__ = ["start_metrics"]


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


class _Reported:
    """The instruments made on one meter provider, and every application's readings they report."""

    __slots__ = ("readings", "histogram")

    def __init__(self, meter: Any, observation: Any) -> None:
        self.readings: list[Readings] = []
        self.histogram: Any = None
        for instrument in INSTRUMENTS:
            if instrument.kind == "histogram":
                self.histogram = meter.create_histogram(
                    instrument.name, unit=instrument.unit, description=instrument.description
                )
                continue
            create = meter.create_observable_counter
            if instrument.kind == "up_down_counter":
                create = meter.create_observable_up_down_counter
            callback = self._callback(instrument.name, observation)
            create(instrument.name, callbacks=[callback], unit=instrument.unit, description=instrument.description)

    def _callback(self, name: str, observation: Any) -> Callable[[Any], Iterable[Any]]:
        def observe(options: Any) -> Iterable[Any]:
            if len(self.readings) == 1:
                return [observation(value, attributes) for attributes, value in self.readings[0].rows(name)]
            summed: dict[tuple[tuple[str, str | int], ...], tuple[Attributes, float]] = {}
            for readings in self.readings:  # applications sharing a provider: a shared endpoint's rows add up
                for attributes, value in readings.rows(name):
                    key = tuple(sorted(attributes.items()))
                    summed[key] = (attributes, summed[key][1] + value if key in summed else value)
            return [observation(value, attributes) for attributes, value in summed.values()]

        return observe


_REPORTED: weakref.WeakKeyDictionary[Any, _Reported] = weakref.WeakKeyDictionary()
"""Per meter provider: an instrument of a name is made once on a meter, so applications share them."""


def start_metrics(readings: Readings, meter_provider: Any = None) -> None:
    """Report ``readings`` through the instruments of ``meter_provider`` (or the global one), made on first use.

    The readings live as long as the provider: an application's figures stay reported once it is built.
    """
    metrics = _otel_metrics()
    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    reported = _REPORTED.get(provider)
    if reported is None:
        reported = _REPORTED[provider] = _Reported(provider.get_meter("pyfly_ws", _version()), metrics.Observation)
    reported.readings.append(readings)
    readings.figures.session_ended.append(_recorder(reported.histogram))


def _version() -> str | None:
    try:
        return importlib.metadata.version("pyfly-ws")
    except importlib.metadata.PackageNotFoundError:
        return None


def _recorder(histogram: Any) -> Callable[[str, float], None]:
    def record(endpoint: str, seconds: float) -> None:
        histogram.record(seconds, {"endpoint": endpoint})

    return record
