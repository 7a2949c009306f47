"""Traces through the OpenTelemetry API: one span per handshake, and optionally one short trace per message.

The library never configures an SDK: it takes the global ``TracerProvider``
(set by the application, or by ``opentelemetry-instrument``) unless one is
passed, as instrumentation libraries do. Only the API is needed, and it is
imported when a :class:`Tracing` is made, by ``create_app(..., telemetry=...)`` (``pip install "pyfly-ws[otel]"``).

What is traced (attributes are bounded: path templates, declared message
types, outcomes, reasons and error codes; never a session id, a user, a room,
a raw path or a query):

- ``WebSocket <template>`` (kind ``SERVER``): from the handshake's arrival to
  its accept or refusal. A ``traceparent`` header on the handshake continues
  the caller's trace. Attributes ``pyfly_ws.endpoint``,
  ``pyfly_ws.handshake.outcome`` (``accepted``, ``refused``) and, when refused,
  ``pyfly_ws.handshake.reason`` (``origin``, ``guard``, ``drain``,
  ``not_found``, ``limit``, ``error``), with an error status naming it.
- ``message <type>`` (kind ``CONSUMER``), with ``message_spans=True``: one per
  incoming message of a message-level endpoint, a trace of its own (the child
  of the envelope's ``traceparent`` if it carries one) linked to its session's
  handshake span. It lasts while the message is validated, handled and
  answered, and is the current span meanwhile. ``pyfly_ws.message.type`` is the
  declared type (``_unknown`` for any other), ``pyfly_ws.message.outcome`` is
  ``reply``, ``error`` or ``none``, ``pyfly_ws.message.error_code`` the code of
  an error answer.

Pushes and server requests (``session.emit``, ``session.request``) and hub
publications (``hub.publish_message``) carry the current span's
``traceparent`` (and ``tracestate``) in their envelope.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..exceptions import MissingDependencyError
from ..session.figures import Reason
from ..session.tracing import MessageTrace, SessionTrace
from .options import OTEL_MISSING

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanContext, Tracer, TracerProvider

__all__ = ["INSTRUMENTATION_NAME", "Tracing"]

INSTRUMENTATION_NAME = "pyfly_ws"
"""The name of the tracer pyfly-ws asks the ``TracerProvider`` for."""

_ENDPOINT = "pyfly_ws.endpoint"
_OUTCOME = "pyfly_ws.handshake.outcome"
_REASON = "pyfly_ws.handshake.reason"
_TYPE = "pyfly_ws.message.type"
_MESSAGE_OUTCOME = "pyfly_ws.message.outcome"
_ERROR_CODE = "pyfly_ws.message.error_code"


class Tracing:
    """Traces an application's handshakes and, with ``message_spans=True``, its messages.

    ``create_app(..., telemetry=Telemetry(...))`` makes one. ``tracer_provider``
    defaults to the global one (looked up when each span starts, so an SDK set
    up after the application is built still gets the spans).
    """

    def __init__(self, tracer_provider: TracerProvider | None = None, *, message_spans: bool = False) -> None:
        try:
            from opentelemetry import context, trace
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
        except ImportError as exc:
            raise MissingDependencyError(OTEL_MISSING) from exc
        if not isinstance(message_spans, bool):
            raise TypeError(f"message_spans is True or False, got {message_spans!r}")
        self.message_spans = message_spans
        """Whether each incoming message of a message-level endpoint gets a trace of its own."""
        self.tracer: Tracer = trace.get_tracer(INSTRUMENTATION_NAME, _version(), tracer_provider)
        """The OpenTelemetry tracer the spans come from."""
        self._trace = trace
        self._context = context
        self._propagator = TraceContextTextMapPropagator()

    def __repr__(self) -> str:
        return f"<Tracing message_spans={self.message_spans}>"

    def session(self, endpoint: str, headers: Iterable[tuple[bytes, bytes]]) -> SessionTrace:
        """Start the span of a handshake to the endpoint at the path template ``endpoint``."""
        carrier: dict[str, str] | None = None
        for name, value in headers:
            if name == b"traceparent" or name == b"tracestate":
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        # With no traceparent header, the current context: an ASGI middleware's span, if one runs around us.
        parent = self._propagator.extract(carrier) if carrier is not None and "traceparent" in carrier else None
        span = self.tracer.start_span(
            f"WebSocket {endpoint}",
            context=parent,
            kind=self._trace.SpanKind.SERVER,
            attributes={_ENDPOINT: endpoint},
        )
        return _SessionTrace(self, span, endpoint)

    def carrier(self) -> dict[str, str]:
        """The current span's W3C ``traceparent`` (and ``tracestate``); ``{}`` without a valid current span."""
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier)
        return carrier

    def _parent(self, traceparent: object, tracestate: object) -> Context:
        """The context a message starts from: the envelope's ``traceparent``, else none (a new trace)."""
        empty = self._context.Context()
        if not isinstance(traceparent, str):
            return empty
        carrier = {"traceparent": traceparent}
        if isinstance(tracestate, str):
            carrier["tracestate"] = tracestate
        return self._propagator.extract(carrier, empty)


def _version() -> str | None:
    try:
        return importlib.metadata.version("pyfly-ws")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return None


class _SessionTrace:
    """One session's handshake span, then the link its messages' spans carry to it."""

    __slots__ = ("tracing", "span", "endpoint", "link")

    def __init__(self, tracing: Tracing, span: Span, endpoint: str) -> None:
        self.tracing = tracing
        self.span: Span | None = span
        """The handshake span until it ends; then let go, so an open session holds only :attr:`link`."""
        self.endpoint = endpoint
        self.link: SpanContext = span.get_span_context()

    @property
    def message_spans(self) -> bool:
        return self.tracing.message_spans

    def accepted(self) -> None:
        span, self.span = self.span, None
        if span is not None:
            span.set_attribute(_OUTCOME, "accepted")
            span.end()

    def refused(self, reason: Reason) -> None:
        span, self.span = self.span, None
        if span is not None:
            span.set_attribute(_OUTCOME, "refused")
            span.set_attribute(_REASON, reason)
            trace = self.tracing._trace
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"handshake refused: {reason}"))
            span.end()

    def message(self, kind: str, traceparent: object, tracestate: object) -> MessageTrace:
        tracing = self.tracing
        trace = tracing._trace
        parent = tracing._parent(traceparent, tracestate)
        span = tracing.tracer.start_span(
            f"message {kind}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={_ENDPOINT: self.endpoint, _TYPE: kind},
            links=[trace.Link(self.link)] if self.link.is_valid else None,
        )
        token = tracing._context.attach(trace.set_span_in_context(span, parent))
        return _MessageTrace(tracing, span, token)

    def carrier(self) -> dict[str, str]:
        return self.tracing.carrier()


class _MessageTrace:
    """The span of one message, current until :meth:`end`."""

    __slots__ = ("tracing", "span", "token", "code")

    def __init__(self, tracing: Tracing, span: Span, token: Any) -> None:
        self.tracing = tracing
        self.span = span
        self.token = token
        self.code: str | None = None

    def failed(self, code: str) -> None:
        self.code = code

    def end(self, replied: bool) -> None:
        span = self.span
        if self.code is not None:
            trace = self.tracing._trace
            span.set_attribute(_MESSAGE_OUTCOME, "error")
            span.set_attribute(_ERROR_CODE, self.code)
            span.set_status(trace.Status(trace.StatusCode.ERROR, self.code))
        else:
            span.set_attribute(_MESSAGE_OUTCOME, "reply" if replied else "none")
        self.tracing._context.detach(self.token)
        span.end()
