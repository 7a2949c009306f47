"""The JSON Schemas of a message-level endpoint's frames, field for field as :mod:`pyfly_ws.messages` writes them.

Each schema is of the whole frame (the envelope with its ``type``, ``id``
and ``data`` under the endpoint's field names), so a client can validate
what it sends and receives as it is on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..mapping.messages import ERROR_CODES, RESERVED_TYPES, Envelope

__all__ = ["FIELD_ERROR", "FrameSchemas", "pointer"]

FIELD_ERROR: dict[str, Any] = {
    "type": "object",
    "title": "FieldError",
    "description": "One problem in a message's data: where it is, what is wrong, and a machine-readable kind.",
    "properties": {
        "location": {
            "type": "array",
            "items": {"type": ["string", "integer"]},
            "description": "The path to the value inside `data` (empty: `data` itself).",
        },
        "message": {"type": "string"},
        "kind": {"type": "string", "description": "For instance `missing`, `int_type`, `value_error`."},
    },
    "required": ["location", "message", "kind"],
}
"""The items of an ``invalid_payload`` error's ``errors`` (:class:`~pyfly_ws.FieldError`)."""


_PROTOCOL = "; a protocol error (a row of them closes the session)"


def pointer(field: str) -> str:
    """The JSON Pointer to a top-level field of a frame."""
    return "/" + field.replace("~", "~0").replace("/", "~1")


class FrameSchemas:
    """The frame schemas of one endpoint's envelope."""

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope

    def _frame(self, fields: dict[str, Any], required: Iterable[str]) -> dict[str, Any]:
        return {"type": "object", "properties": fields, "required": list(required)}

    def _type(self, kind: str) -> dict[str, Any]:
        return {"const": kind}

    def _traced(self, fields: dict[str, Any], sender: str) -> dict[str, Any]:
        """``fields`` and the optional W3C trace context (written and read only by an app with telemetry)."""
        env = self.envelope
        fields[env.traceparent] = {
            "type": "string",
            "description": f"W3C trace context of {sender}; optional, never part of the data.",
            "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
        }
        fields[env.tracestate] = {"type": "string", "description": "W3C `tracestate`, beside a `traceparent`."}
        return fields

    def client(self, kind: str, data: dict[str, Any] | None, data_required: bool) -> dict[str, Any]:
        """``{"type": kind, "id"?: ..., "data": ...}`` from the client (``data`` ``None``: the handler reads none)."""
        env = self.envelope
        fields: dict[str, Any] = {
            env.type: self._type(kind),
            env.id: {
                "type": ["string", "integer", "null"],
                "description": "Asks for an answer: the reply (or the error) carries the same id. "
                "Left out, or null: no reply is sent.",
            },
        }
        if data is not None:
            fields[env.data] = data
        self._traced(fields, "the client's span: the message's span continues it")
        return self._frame(fields, [env.type, env.data] if data is not None and data_required else [env.type])

    def other(self, mapped: Iterable[str]) -> dict[str, Any]:
        """A client message of a type no handler is mapped to, handed to the controller's ``on_message``."""
        env = self.envelope
        taken = sorted({*mapped, *RESERVED_TYPES})
        fields = {
            env.type: {"type": "string", "not": {"enum": taken}, "description": "Any type not mapped to a handler."},
            env.id: {"type": ["string", "integer", "null"], "description": "Asks for a reply, as for any message."},
            env.data: {"description": "Anything: `on_message` gets it as decoded."},
        }
        return self._frame(fields, [env.type])

    def reply(self, data: dict[str, Any]) -> dict[str, Any]:
        """The server's ``{"type": "reply", "id": ..., "data": ...}`` to a client message carrying an id."""
        env = self.envelope
        fields = {
            env.type: self._type("reply"),
            env.id: {"type": ["string", "integer"], "description": "The id of the message answered."},
            env.data: data,
        }
        return self._frame(fields, [env.type, env.id, env.data])

    def client_reply(self, data: dict[str, Any], data_required: bool) -> dict[str, Any]:
        """The client's ``{"type": "reply", "id": ..., "data": ...}`` to a server request."""
        env = self.envelope
        fields = {
            env.type: self._type("reply"),
            env.id: {"type": "string", "description": "The id of the server request answered."},
            env.data: data,
        }
        return self._frame(fields, [env.type, env.id, env.data] if data_required else [env.type, env.id])

    def push(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """A server push ``{"type": kind, "data": ...}`` (``session.emit``, a hub publication)."""
        env = self.envelope
        fields = self._traced({env.type: self._type(kind), env.data: data}, "the span that sent it")
        fields[env.position] = {
            "type": "string",
            "pattern": "^[0-9a-z]{8}-[0-9]{16}$",
            "description": "A publication to a room with history: its place in the room (epoch-offset). "
            "Reconnecting with the last one received, the client is replayed what came after it.",
            "examples": ["k3j9x2q1-0000000000000042"],
        }
        return self._frame(fields, [env.type, env.data])

    def request(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """A server request ``{"type": kind, "id": ..., "data": ...}`` (``session.request``)."""
        env = self.envelope
        fields = {
            env.type: self._type(kind),
            env.id: {
                "type": "string",
                "description": "A fresh id (`s1`, `s2`, ...): the client answers with a reply, or an error, "
                "carrying it.",
                "examples": ["s1"],
            },
            env.data: data,
        }
        return self._frame(self._traced(fields, "the span that asked"), [env.type, env.id, env.data])

    def error(self) -> dict[str, Any]:
        """``{"type": "error", "id": ..., "code": ..., "message": ..., "errors"?: [...]}``.

        Either one of pyfly-ws's own codes (each described), or an application's
        (a :class:`~pyfly_ws.MessageError` a handler or guard raised, or the
        client's own answering a server request).
        """
        env = self.envelope
        known = sorted(ERROR_CODES)
        codes = [
            {"const": code, "description": f"{meaning[:1].upper()}{meaning[1:]}{_PROTOCOL if protocol else ''}."}
            for code, (meaning, protocol) in sorted(ERROR_CODES.items())
        ]
        fields = {
            env.type: self._type("error"),
            env.id: {
                "type": ["string", "integer", "null"],
                "description": "The id of the message answered; null when it had none, or could not be read.",
            },
            env.code: {"type": "string", "minLength": 1, "description": "What went wrong, for programs."},
            env.message: {"type": "string", "description": "What went wrong, for people."},
            env.errors: {"type": "array", "description": "Details, when there are some."},
        }
        schema = self._frame(fields, [env.type, env.id, env.code, env.message])
        schema["oneOf"] = [
            {
                "title": "pyfly-ws error",
                "description": "Sent by the dispatcher. A row of protocol errors closes the session (1008, or 1007 "
                "when the last frame could not be decoded); any valid message ends the row.",
                "properties": {env.code: {"oneOf": codes}, env.errors: {"items": FIELD_ERROR}},
            },
            {
                "title": "application error",
                "description": "A MessageError raised by a handler or a message guard (`timeout`: a server request "
                "its handler did not catch went unanswered), or the client's own error answering a server request.",
                "properties": {env.code: {"not": {"enum": known}}},
            },
        ]
        return schema
