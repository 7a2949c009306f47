"""The Prometheus page of ``create_app(..., metrics="/metrics")``: the figures in the text exposition format.

A collector of pyfly-ws's own reads the same rows the OpenTelemetry
instruments do (:mod:`pyfly_ws.telemetry.readings`) when the page is scraped,
and prometheus-client writes them out (the ``prometheus`` extra). Neither the
OpenTelemetry SDK nor its Prometheus exporter is needed: a library must not
configure an SDK, and the exporter, still a beta pinned to one SDK release,
would only translate the same tallies. The names are those the OpenTelemetry
Prometheus exporter gives the same instruments: dots become underscores, the
unit is appended (``_seconds``, ``_bytes``), counters end in ``_total``.
Without prometheus-client the page answers 404 naming the extra, and
``create_app`` logs nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..discovery.pages import Page
from ..discovery.routing import HTTPAnswer
from ..exceptions import ConfigurationError
from .options import Prometheus
from .readings import INSTRUMENTS, Instrument, Readings

__all__ = ["PROMETHEUS_MEDIA_TYPE", "PROMETHEUS_MISSING", "prometheus_name", "prometheus_page"]

PROMETHEUS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROMETHEUS_MISSING = (
    'The metrics page needs prometheus-client, which is not installed: pip install "pyfly-ws[prometheus]"\n'
)
"""The body of the 404 the page answers without prometheus-client."""

_UNITS = {"s": "seconds", "By": "bytes"}


def prometheus_name(instrument: Instrument) -> str:
    """The instrument's Prometheus name, without the ``_total`` a counter's samples add."""
    name = instrument.name.replace(".", "_")
    unit = _UNITS.get(instrument.unit)
    return f"{name}_{unit}" if unit else name


def prometheus_page(readings: Readings, options: Prometheus) -> Page:
    """The page at ``options.path``, behind ``options.guards``, written afresh on every request."""
    path = options.path
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in "{}?#"):
        raise ConfigurationError(f"the metrics path must be a literal path starting with '/', got {path!r}")
    guards = tuple(options.guards)
    try:
        from prometheus_client import CollectorRegistry, generate_latest
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != "prometheus_client" and not exc.name.startswith("prometheus_client."):
            raise
        return Page(path, HTTPAnswer(404, PROMETHEUS_MISSING), guards)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(readings))

    def render() -> HTTPAnswer:
        return HTTPAnswer(200, generate_latest(registry), media_type=PROMETHEUS_MEDIA_TYPE)

    return Page(path, HTTPAnswer(200, b"", media_type=PROMETHEUS_MEDIA_TYPE), guards, render)


class _Collector:
    """prometheus-client's collector protocol over the readings: families built at each scrape."""

    def __init__(self, readings: Readings) -> None:
        self.readings = readings

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        for instrument in INSTRUMENTS:
            name = prometheus_name(instrument)
            labels = list(instrument.attributes)
            family: Any
            if instrument.kind == "histogram":
                family = HistogramMetricFamily(name, instrument.description, labels=labels)
                for endpoint, buckets in self.readings.durations().items():
                    cumulative, running = [], 0
                    for bound, count in zip((*buckets.bounds, float("inf")), buckets.counts, strict=True):
                        running += count
                        cumulative.append((_bound(bound), float(running)))
                    family.add_metric([endpoint], cumulative, buckets.total)
                yield family
                continue
            if instrument.kind == "up_down_counter":
                family = GaugeMetricFamily(name, instrument.description, labels=labels)
            else:
                family = CounterMetricFamily(name, instrument.description, labels=labels)
            for attributes, value in self.readings.rows(instrument.name):
                family.add_metric([str(attributes.get(label, "")) for label in labels], float(value))
            yield family


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))
