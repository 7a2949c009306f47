"""The frames of a message-level endpoint: replies, errors, pushes and requests out.

:class:`Frames` writes every outgoing frame of one endpoint in its wire format
(codec and envelope field names), prepared once per endpoint.
"""

from __future__ import annotations

from typing import Any

from ..mapping.messages import RESERVED_TYPES, Codec, Envelope, MessageId

__all__ = ["Frames", "check_message_type"]


class Frames:
    """Outgoing frames of one endpoint, encoded by its codec with its envelope's field names."""

    __slots__ = (
        "codec",
        "envelope",
        "binary",
        "encode",
        "_type",
        "_id",
        "_data",
        "_code",
        "_message",
        "_errors",
        "_trace_fields",
        "_position",
    )

    def __init__(self, codec: Codec, envelope: Envelope) -> None:
        self.codec = codec
        self.envelope = envelope
        self.binary = codec.binary
        """Whether frames go out binary (``send_bytes``) rather than text."""
        self.encode = codec.encode
        self._type = envelope.type
        self._id = envelope.id
        self._data = envelope.data
        self._code = envelope.code
        self._message = envelope.message
        self._errors = envelope.errors
        self._trace_fields = {"traceparent": envelope.traceparent, "tracestate": envelope.tracestate}
        self._position = envelope.position

    def reply(self, id: MessageId, data: Any) -> str | bytes:
        """``{"type": "reply", "id": id, "data": data}``."""
        return self.encode({self._type: "reply", self._id: id, self._data: data})

    def error(
        self,
        id: MessageId | None,
        code: str,
        message: str,
        errors: list[Any] | None = None,
    ) -> str | bytes:
        """``{"type": "error", "id": id or null, "code", "message", "errors"?}``."""
        frame: dict[str, Any] = {self._type: "error", self._id: id, self._code: code, self._message: message}
        if errors is not None:
            frame[self._errors] = errors
        return self.encode(frame)

    def push(self, type: str, data: Any) -> str | bytes:
        """``{"type": type, "data": data}``: a server push."""
        return self.encode({self._type: type, self._data: data})

    def request(self, type: str, id: MessageId, data: Any) -> str | bytes:
        """``{"type": type, "id": id, "data": data}``: a server request, answered by a client reply."""
        return self.encode({self._type: type, self._id: id, self._data: data})

    def traced(self, type: str, id: MessageId | None, data: Any, carrier: dict[str, str]) -> str | bytes:
        """A push (``id`` ``None``) or a request carrying the W3C trace context in ``carrier``.

        ``carrier`` holds ``traceparent`` (and ``tracestate``), written under the envelope's names for them.
        """
        frame: dict[str, Any] = (
            {self._type: type, self._id: id, self._data: data}
            if id is not None
            else {
                self._type: type,
                self._data: data,
            }
        )
        self._carry(frame, carrier)
        return self.encode(frame)

    def marked(self, type: str, data: Any, mark: str, carrier: dict[str, str] | None = None) -> str | bytes:
        """A push whose position field holds ``mark``, written before its data (so it comes first in the frame).

        The hub writes the publication's position over ``mark`` once the room's
        history gave it one (``POSITION_MARK``); ``carrier`` as for :meth:`traced`.
        """
        frame: dict[str, Any] = {self._type: type, self._position: mark, self._data: data}
        if carrier:
            self._carry(frame, carrier)
        return self.encode(frame)

    def _carry(self, frame: dict[str, Any], carrier: dict[str, str]) -> None:
        """Write the trace context of ``carrier`` into ``frame``, under the envelope's names for it."""
        names = self._trace_fields
        for key, value in carrier.items():
            name = names.get(key)
            if name is not None:
                frame[name] = value


def check_message_type(kind: object) -> None:
    """Refuse what cannot be the type of an outgoing push or request."""
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"a message type is a non-empty string, got {kind!r}")
    if kind in RESERVED_TYPES:
        raise ValueError(f"message type {kind!r} is reserved by the wire format")
