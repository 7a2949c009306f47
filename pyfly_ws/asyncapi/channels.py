"""One endpoint as AsyncAPI: its channel, its messages and its operations.

A message-level endpoint (a ``@websocket_mapping`` class) is described
message by message: a ``receive`` operation per ``@message_mapping`` handler,
answered by its reply or the shared error, and a ``send`` operation per
``@emits`` declaration (a push, or a server request answered by the client).
A method endpoint reads and writes its frames itself: its channel carries a
text and a binary message whose content is unknown, and says so.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..lifecycle.registry import Endpoint
from ..mapping.auth import Authenticator
from ..mapping.decorators import marked_members
from ..mapping.emits import EMITS_MARK, Emitted, declared_emits
from ..mapping.handshake import HandshakeSchema, declared_handshake
from ..mapping.messages import Codec, Envelope
from ..messages.dispatch import Dispatcher
from ..messages.routes import MESSAGE, PAYLOAD, Route
from ..session.credentials import EXPIRED_CLOSE, NOTICE
from .docs import doc_of, split_doc
from .frames import FrameSchemas, pointer
from .names import Names, safe_name
from .schemas import SchemaSet, accepts_none
from .security import EXPIRING, REFRESH, SIGNED, scheme_of

__all__ = ["CONTENT_TYPES", "Described", "describe_endpoint"]

CONTENT_TYPES = {"json": "application/json", "msgpack": "application/msgpack"}
"""The content type of each built-in codec's frames (another codec may say its own as ``media_type``)."""

UNKNOWN = "x-pyfly-ws-unknown-schema"
"""Marks a message whose content the document cannot know (a method endpoint's frames)."""
FRAME = "x-pyfly-ws-frame"
"""``text`` or ``binary``: the WebSocket frame a message travels in."""

_PARAMETERS = {
    "str": "a path segment (any text without `/`)",
    "int": "an integer (`-?[0-9]+`)",
    "float": "a decimal number (`-?[0-9]+(.[0-9]+)?`)",
    "uuid": "a UUID (8-4-4-4-12 hexadecimal digits)",
    "path": "the rest of the path, `/` included",
}


@dataclass
class Described:
    """What one endpoint adds to the document."""

    channel: dict[str, Any]
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``components.messages`` entries."""
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``components.securitySchemes`` entries: how the endpoint's handshake carries its token."""


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)}


class _Channel:
    """Builds one endpoint's part of the document."""

    def __init__(
        self, endpoint: Endpoint, channel_id: str, schemas: SchemaSet, components: Names, operations: Names
    ) -> None:
        self.endpoint = endpoint
        self.id = channel_id
        self.schemas = schemas
        self.components = components
        self.local = Names()
        """The names of the channel's messages."""
        self.operation_names = operations
        self.messages: dict[str, dict[str, str]] = {}
        """The channel's ``messages``: its name for each, referring to ``components.messages``."""
        self.out = Described(channel={})

    def add_message(self, wanted: str, message: dict[str, Any], component: str | None = None) -> dict[str, str]:
        """Put ``message`` in the channel (and in ``components.messages``); the reference operations use."""
        local = self.local.new(wanted)
        if component is None:
            component = self.components.new(f"{self.id}.{local}")
        self.out.messages.setdefault(component, message)
        self.messages[local] = _ref("components", "messages", component)
        return _ref("channels", self.id, "messages", local)

    def operation(self, wanted: str, action: str, messages: list[dict[str, str]], **more: Any) -> None:
        operation: dict[str, Any] = {"action": action, "channel": _ref("channels", self.id)}
        operation.update({key: more.pop(key) for key in ("summary", "description") if key in more})
        operation["messages"] = messages
        operation.update(more)
        self.out.operations[self.operation_names.new(f"{self.id}.{wanted}")] = operation

    def channel(self, description: str | None, bindings: dict[str, Any] | None) -> dict[str, Any]:
        endpoint = self.endpoint
        channel: dict[str, Any] = {"address": endpoint.template.render(lambda name, _: f"{{{name}}}")}
        channel["title"] = endpoint.qualname
        if description:
            channel["description"] = description
        channel["messages"] = {name: self.messages[name] for name in sorted(self.messages)}
        if endpoint.template.params:
            channel["parameters"] = {
                name: {"description": f"Path parameter of type `{converter.name}`: {_PARAMETERS[converter.name]}."}
                if converter.name in _PARAMETERS
                else {"description": f"Path parameter of type `{converter.name}`."}
                for name, converter in endpoint.template.params.items()
            }
        if bindings:
            channel["bindings"] = bindings
        return channel


def _handshake(endpoint: Endpoint) -> dict[str, Any] | None:
    """The ``ws`` channel binding: the query parameters and headers the endpoint's guards and mapping declare."""
    merged = HandshakeSchema()
    method = getattr(endpoint.controller, endpoint.method, None) if endpoint.dispatcher is None else None
    for marked in (*endpoint.policy.guards, endpoint.controller, method):
        found = declared_handshake(marked) if marked is not None else None
        if found is not None:
            merged = merged.then(found)
    if not merged.query and not merged.headers:
        return None
    binding: dict[str, Any] = {"method": "GET"}
    for key, items, fold in (("query", merged.query, False), ("headers", merged.headers, True)):
        if not items:
            continue
        needed = {name.lower() for name in merged.required} if fold else merged.required
        properties = dict(sorted(items, key=lambda item: item[0].lower()))
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [name for name in properties if (name.lower() if fold else name) in needed]
        if required:
            schema["required"] = required
        binding[key] = schema
    binding["bindingVersion"] = "0.1.0"
    return {"ws": binding}


def _content_type(codec: Codec | None) -> tuple[str, str]:
    """The content type and the frame kind (``text`` or ``binary``) of a codec's frames."""
    if codec is None:
        return CONTENT_TYPES["json"], "text"
    kind = "binary" if codec.binary else "text"
    media = getattr(codec, "media_type", None)
    if isinstance(media, str) and media:
        return media, kind
    return CONTENT_TYPES.get(codec.name, "application/octet-stream" if codec.binary else "text/plain"), kind


def describe_endpoint(
    endpoint: Endpoint,
    channel_id: str,
    schemas: SchemaSet,
    components: Names,
    operations: Names,
    schemes: Mapping[str, dict[str, Any]] | None = None,
) -> Described:
    """The channel, messages and operations of ``endpoint``, named from ``channel_id``.

    ``components`` and ``operations`` hand out the names of its messages and operations, unique in the document;
    ``schemes`` are the security schemes the document has so far (the same scheme keeps its name).
    """
    built = _Channel(endpoint, channel_id, schemas, components, operations)
    dispatcher = endpoint.dispatcher
    if isinstance(dispatcher, Dispatcher):
        _gateway(built, dispatcher)
        description = doc_of(endpoint.controller)
    else:
        _raw(built)
        method = getattr(endpoint.controller, endpoint.method, None)
        description = doc_of(method) or doc_of(endpoint.controller)
        description = (description + "\n\n" if description else "") + (
            "The handler reads and writes the frames itself: their content is not described."
        )
    built.out.channel = built.channel(description, _handshake(endpoint))
    authenticator = endpoint.policy.authenticator
    scheme = None if authenticator is None else scheme_of(authenticator)
    if scheme is not None:
        base, number = safe_name(scheme[0]), 2
        name, known = base, schemes or {}
        while name in known and known[name] != scheme[1]:
            name, number = f"{base}-{number}", number + 1
        built.out.schemes[name] = scheme[1]
        for operation in built.out.operations.values():
            operation["security"] = [_ref("components", "securitySchemes", name)]
    return built.out


# -- a method endpoint -----------------------------------------------------------


def _raw(built: _Channel) -> None:
    endpoint = built.endpoint
    cls, method = endpoint.controller, getattr(endpoint.controller, endpoint.method, None)
    if declared_emits(method) or (declared_emits(cls) and not _is_gateway(cls)):
        where = endpoint.qualname if declared_emits(method) else cls.__qualname__
        raise ConfigurationError(
            f"{where}: @emits declares messages of a message-level endpoint (@websocket_mapping on the class, "
            "or one of its @message_mapping handlers); a method endpoint sends frames, not messages"
        )
    refs = []
    for kind, content, schema in (
        ("text", "text/plain", {"type": "string"}),
        ("binary", "application/octet-stream", {"type": "string", "format": "binary"}),
    ):
        message = {
            "name": kind,
            "title": f"A {kind} frame",
            "description": f"Any {kind} frame: the endpoint's handler reads and writes its frames itself, so their "
            "content is not described.",
            "contentType": content,
            "payload": {**schema, "description": "Unknown: not described by the code."},
            FRAME: kind,
            UNKNOWN: True,
        }
        shared = built.components.new(kind) if kind not in built.components.taken else kind
        refs.append(built.add_message(kind, message, component=shared))
    built.operation("receive", "receive", list(refs), summary="Frames from the client (content not described).")
    built.operation("send", "send", list(refs), summary="Frames to the client (content not described).")


def _is_gateway(cls: type) -> bool:
    mapping = getattr(cls, "__pyfly_ws_mapping__", None)
    return isinstance(mapping, dict) and "messages" in mapping


# -- a message-level endpoint ---------------------------------------------------------


@dataclass
class _Declared:
    """One ``@emits`` type of a gateway: the declaration, and the handlers said to send it."""

    emitted: Emitted
    sent_by: list[str] = field(default_factory=list)


def _emitted(cls: type) -> dict[str, _Declared]:
    """Every ``@emits`` of a gateway (its classes' and its handlers'), by type; one type, two payloads: an error."""
    found: dict[str, _Declared] = {}

    def add(emitted: Emitted, where: str, handler: str | None) -> None:
        known = found.get(emitted.type)
        if known is None:
            found[emitted.type] = _Declared(emitted, [handler] if handler else [])
            return
        if not known.emitted.same_message(emitted):
            raise ConfigurationError(
                f"{where}: @emits({emitted.type!r}) is declared twice, with different payloads "
                f"({_shown(known.emitted)} and {_shown(emitted)})"
            )
        if known.emitted.description is None and emitted.description is not None:
            known.emitted = emitted
        if handler and handler not in known.sent_by:
            known.sent_by.append(handler)

    for klass in cls.__mro__:
        for emitted in declared_emits(klass):
            add(emitted, cls.__qualname__, None)
    for name, member, func, declared in marked_members(cls, EMITS_MARK):
        if isinstance(member, type) or not isinstance(declared, tuple):
            continue
        mapped = getattr(func, "__pyfly_ws_message__", None)
        if mapped is None:
            if getattr(func, "__pyfly_ws_mapping__", None) is not None:
                continue  # a method endpoint beside the gateway: its own description raises
            raise ConfigurationError(
                f"{cls.__qualname__}.{name}: @emits on a method marks a @message_mapping handler (the handler "
                "that sends it); put it on the class for what the controller sends otherwise"
            )
        for emitted in declared:
            add(emitted, f"{cls.__qualname__}.{name}", mapped[0])
    return found


def _shown(emitted: Emitted) -> str:
    def name(annotation: Any) -> str:
        return getattr(annotation, "__qualname__", None) or repr(annotation)

    return name(emitted.payload) + (f" replied with {name(emitted.reply)}" if emitted.request else "")


def _gateway(built: _Channel, dispatcher: Dispatcher) -> None:
    endpoint = built.endpoint
    options = dispatcher.options
    envelope = options.envelope
    content, frame = _content_type(options.codec)
    frames = FrameSchemas(envelope)
    schemas, owner = built.schemas, endpoint.qualname
    correlation = {
        "description": "A message and its answer (reply or error) carry the same id.",
        "location": f"$message.payload#{pointer(envelope.id)}",
    }

    def message(name: str, payload: dict[str, Any], *, correlated: bool, **more: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name}
        out.update({key: more.pop(key) for key in ("title", "summary", "description") if key in more})
        out["contentType"] = content
        out["payload"] = payload
        if correlated:
            out["correlationId"] = dict(correlation)
        out[FRAME] = frame
        out.update(more)
        return out

    shared = envelope == Envelope() and content == CONTENT_TYPES["json"]
    error_message = message(
        "error",
        frames.error(),
        correlated=True,
        title="Error",
        description="The answer to a message that failed (and, with a null id, to a frame that could not be read); "
        "the session stays open. A client declines a server request with an error too.",
    )
    error_component = None
    if shared:
        error_component = "error" if "error" in built.components.taken else built.components.new("error")
    error = built.add_message("error", error_message, component=error_component)

    routes = dict(sorted(dispatcher.routes.items()))
    received = {kind: _received(built, frames, route, message, owner) for kind, route in routes.items()}
    for kind, route in routes.items():
        reply_data = _reply_data(schemas, route)
        reply = built.add_message(
            f"{kind}.reply",
            message("reply", frames.reply(reply_data), correlated=True, title=f"Reply to {kind}"),
        )
        func = getattr(dispatcher.controller, route.method, None)
        built.operation(
            f"receive.{kind}",
            "receive",
            [received[kind]],
            **split_doc(doc_of(func)),
            reply={"channel": _ref("channels", built.id), "messages": [reply, error]},
            **{"x-pyfly-ws-handler": route.where},
        )
    if "on_message" in dispatcher.hooks:
        other = built.add_message(
            "other",
            message(
                "other",
                frames.other(routes),
                correlated=True,
                title="Any other message",
                description="A message of a type no handler is mapped to: the controller's `on_message` gets it, "
                "and its return value is the reply.",
            ),
        )
        reply = built.add_message(
            "other.reply", message("reply", frames.reply({}), correlated=True, title="Reply from on_message")
        )
        built.operation(
            "receive.other",
            "receive",
            [other],
            summary="Messages of other types, handled by on_message.",
            reply={"channel": _ref("channels", built.id), "messages": [reply, error]},
            **{"x-pyfly-ws-handler": f"{owner}.on_message"},
        )
    for _, declared in sorted(_emitted(dispatcher.controller).items()):
        _sent(built, frames, message, declared, error, owner)
    if endpoint.policy.authenticator is not None:
        _signing(built, frames, message, error, endpoint.policy.authenticator)


def _signing(
    built: _Channel, frames: FrameSchemas, message: Any, error: dict[str, str], authenticator: Authenticator
) -> None:
    """The messages of an endpoint that signs its sessions in: ``auth`` (a token in the first message),
    ``auth.refresh`` and ``auth.expiring``."""
    signed = built.add_message("auth.reply", message("reply", frames.reply(SIGNED), correlated=True, title="Signed in"))
    answer = {"reply": {"channel": _ref("channels", built.id), "messages": [signed, error]}}
    if authenticator.first_message is not None:
        first = built.add_message("auth", message("auth", frames.client("auth", REFRESH, True), correlated=True))
        built.operation(
            "receive.auth",
            "receive",
            [first],
            summary="The token, as the first message.",
            description=f"It must come within {authenticator.first_message:g} s of the accept, else the session "
            "closes with 1008; with an id, it is answered with a reply.",
            **answer,
        )
    refresh = built.add_message(
        "auth.refresh", message("auth.refresh", frames.client("auth.refresh", REFRESH, True), correlated=True)
    )
    built.operation(
        "receive.auth.refresh",
        "receive",
        [refresh],
        summary="A fresh token over the live connection.",
        description="Verified like the first; the identity may not change (error `forbidden`), and a bad or "
        "expired token is answered with error `unauthorized`.",
        **answer,
    )
    expiring = built.add_message(
        "auth.expiring", message("auth.expiring", frames.push("auth.expiring", EXPIRING), correlated=False)
    )
    built.operation(
        "send.auth.expiring",
        "send",
        [expiring],
        summary="The token expires soon.",
        description=f"Sent {NOTICE:g} s before the token's expiry (halfway, for a shorter one): without a valid "
        f"`auth.refresh` by then, the session closes with {EXPIRED_CLOSE} `token expired`.",
    )


def _received(built: _Channel, frames: FrameSchemas, route: Route, message: Any, owner: str) -> dict[str, str]:
    """The client's message of ``route``'s type, in the channel; its reference."""
    data: dict[str, Any] | None
    if PAYLOAD in route.layout:
        data = built.schemas.of(route.payload_type, f"{route.where} (the payload of {route.type!r})", output=False)
        required = not accepts_none(route.payload_type)
    elif MESSAGE in route.layout:
        data, required = {"description": "Anything: the handler reads it from its Message, unvalidated."}, False
    else:
        data, required = None, False  # the handler reads no data
    more = {"description": "Its message guards may turn it down (error `forbidden`)."} if route.guards else {}
    payload = frames.client(route.type, data, required)
    return built.add_message(route.type, message(route.type, payload, correlated=True, **more))


def _reply_data(schemas: SchemaSet, route: Route) -> dict[str, Any]:
    if route.reply_type is inspect.Parameter.empty:
        return {"description": "Not described: the handler's return type is not annotated."}
    return schemas.of(route.reply_type, f"{route.where} (its return type)", output=True)


def _sent(
    built: _Channel,
    frames: FrameSchemas,
    message: Any,
    declared: _Declared,
    error: dict[str, str],
    owner: str,
) -> None:
    emitted = declared.emitted
    kind = emitted.type
    where = f"{owner} (@emits({kind!r}))"
    data = built.schemas.of(emitted.payload, where, output=True)
    more: dict[str, Any] = {}
    if emitted.description:
        more["description"] = emitted.description
    sent_by = _sent_by(declared.sent_by)
    name = kind  # the name of the server's message, unless the client sends one of this type too
    if safe_name(kind) in built.local.taken:
        name = f"{kind}.{'request' if emitted.request else 'push'}"
    what = "A server request, answered by the client's reply or error" if emitted.request else "A push"
    told = {"summary": emitted.description or f"`{kind}`.", "description": f"{what}{sent_by}."}
    if not emitted.request:
        pushed = built.add_message(name, message(kind, frames.push(kind, data), correlated=False, **more))
        built.operation(f"send.{kind}", "send", [pushed], **told)
        return
    asked = built.add_message(name, message(kind, frames.request(kind, data), correlated=True, **more))
    reply_data = built.schemas.of(emitted.reply, f"{where} (its reply)", output=False)
    reply = built.add_message(
        f"{name}.reply",
        message(
            "reply",
            frames.client_reply(reply_data, not accepts_none(emitted.reply)),
            correlated=True,
            title=f"The client's reply to {kind}",
        ),
    )
    built.operation(
        f"send.{kind}",
        "send",
        [asked],
        **told,
        reply={"channel": _ref("channels", built.id), "messages": [reply, error]},
    )


def _sent_by(handlers: Iterable[str]) -> str:
    names = [f"`{name}`" for name in handlers]
    return f", sent while handling {' or '.join(names)}" if names else ""
