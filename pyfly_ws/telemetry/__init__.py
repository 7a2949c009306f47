"""Operational figures through OpenTelemetry (the ``otel`` extra): traces of handshakes and messages."""

from __future__ import annotations

from .traces import Tracing

__all__ = ["Tracing"]
