"""Metrics and traces through the OpenTelemetry API (the ``otel`` extra), and the Prometheus page."""

from __future__ import annotations

from .options import Prometheus, Telemetry

__all__ = ["Prometheus", "Telemetry"]
