"""The OpenTelemetry SDK in tests: a meter provider with an in-memory reader, and the figures it collected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from pyfly_ws import Telemetry

Point = tuple[dict[str, Any], Any]


class Metrics:
    """An SDK meter provider reading into memory, and the :class:`~pyfly_ws.Telemetry` that reports to it."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(meter_provider=self.provider)

    def collect(self) -> dict[str, list[Point]]:
        """Every data point by instrument name: ``(attributes, value)``, or ``(attributes, (count, sum))``."""
        found: dict[str, list[Point]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        if isinstance(point, HistogramDataPoint):
                            value: Any = (point.count, point.sum)
                        else:
                            value = getattr(point, "value", None)
                        found.setdefault(metric.name, []).append((dict(point.attributes or {}), value))
        return found

    def value(self, name: str, **attributes: Any) -> Any:
        """The one point of ``name`` whose attributes are exactly ``attributes`` (0 when there is none)."""
        return value_of(self.collect(), name, attributes)


def value_of(points: Mapping[str, list[Point]], name: str, attributes: Mapping[str, Any]) -> Any:
    matches = [value for found, value in points.get(f"pyfly_ws.{name}", []) if found == dict(attributes)]
    assert len(matches) <= 1, (name, attributes, matches)
    return matches[0] if matches else 0


async def reaches(metrics: Metrics, name: str, at_least: float = 1, timeout: float = 5.0, **attributes: Any) -> Any:  # noqa: ASYNC109
    """Wait until the point of ``name`` with ``attributes`` is at least ``at_least`` (figures of a session that
    ends in another task are counted once its handler is done); its value."""
    for _ in range(int(timeout / 0.01)):
        found = metrics.value(name, **attributes)
        if found >= at_least:
            return found
        await anyio.sleep(0.01)
    raise AssertionError(f"{name}{attributes} stayed at {metrics.value(name, **attributes)} < {at_least}")
