"""The tracing seam: what the lifecycle, the message loop and the hub ask of a tracer.

Declared here, low in the core, so that every layer can hold one without
importing OpenTelemetry; :class:`pyfly_ws.telemetry.traces.Tracing` provides it.
Without a tracer (the default) each session holds ``None`` and nothing here is
called: the decision is taken once per session, never per message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .figures import Reason

__all__ = ["MessageTrace", "SessionTrace", "Tracer"]


class MessageTrace(Protocol):
    """The span of one incoming message, current while its handler runs."""

    def failed(self, code: str) -> None:
        """The message was answered with the error ``code``."""
        ...

    def end(self, replied: bool) -> None:
        """The message is handled; ``replied``: it asked for an answer (an error answer is :meth:`failed`)."""
        ...


class SessionTrace(Protocol):
    """The traces of one session: its handshake span, and the spans of its messages."""

    @property
    def message_spans(self) -> bool:
        """Whether each incoming message of a message-level endpoint gets a span of its own."""
        ...

    def accepted(self) -> None:
        """The handshake was accepted: its span ends."""
        ...

    def refused(self, reason: Reason) -> None:
        """The handshake was refused for ``reason`` (as the ``handshakes`` figure counts it); ignored once ended."""
        ...

    def message(self, kind: str, traceparent: object, tracestate: object) -> MessageTrace:
        """Start the span of a message of ``kind`` (a declared type, or ``_unknown``), linked to the handshake.

        ``traceparent`` and ``tracestate`` are the envelope's fields as received
        (anything that is not a valid W3C value is ignored: the message starts a trace).
        """
        ...

    def carrier(self) -> dict[str, str]:
        """The W3C ``traceparent`` (and ``tracestate``) of the current span, for an outgoing frame; ``{}`` if none."""
        ...


class Tracer(Protocol):
    """An application's tracer: makes each session's :class:`SessionTrace`."""

    def session(self, endpoint: str, headers: Iterable[tuple[bytes, bytes]]) -> SessionTrace:
        """A handshake to the endpoint at the path template ``endpoint`` arrived with these raw headers."""
        ...

    def carrier(self) -> dict[str, str]:
        """The W3C ``traceparent`` (and ``tracestate``) of the current span; ``{}`` if none."""
        ...
