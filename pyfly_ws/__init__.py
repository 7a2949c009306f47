"""pyfly-ws: controller-based WebSocket endpoints for any ASGI framework."""

from __future__ import annotations

from .adapter import Adapter
from .app import create_app
from .asyncapi.options import AsyncAPI
from .capabilities import Capabilities
from .clock import Clock
from .close_codes import CloseCode
from .datastructures import Headers, QueryParams
from .discovery.container import Container, ResolutionError
from .discovery.discover import ControllerSource, discover
from .exceptions import (
    AdapterNotFoundError,
    AdapterUnavailableError,
    ConfigurationError,
    InvalidPayloadError,
    LimitExceededError,
    MessageError,
    MessageTypeError,
    MissingDependencyError,
    RequestError,
    RequestTimeoutError,
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketError,
    WebSocketStateError,
)
from .lifecycle.apps import registry_of
from .lifecycle.registry import Endpoint, Service, SessionRegistry
from .mapping.auth import Authenticator, InvalidToken
from .mapping.decorators import controller, request_mapping, rest_controller, websocket_mapping
from .mapping.emits import emits
from .mapping.guards import Guard, HandshakeView, Reject
from .mapping.handshake import handshake_schema
from .mapping.limits import Limits, Overflow
from .mapping.messages import Codec, CodecError, Envelope, Message, MessageGuard, MessageOptions, message_mapping
from .mapping.paths import PathTemplate
from .mapping.policy import Policy, websocket_policy
from .mapping.principal import Principal
from .messages.codecs import JSON, JSONCodec
from .messages.msgpack import MessagePackCodec
from .messages.payloads import FieldError
from .servers.settings import server_settings
from .session.connection import Connection, Handshake
from .session.handler import WebSocketHandler
from .session.session import JSONMode, SessionState, WebSocketSession
from .telemetry.options import Prometheus, Telemetry

__all__ = [
    "Adapter",
    "AdapterNotFoundError",
    "AdapterUnavailableError",
    "AsyncAPI",
    "Authenticator",
    "Capabilities",
    "Clock",
    "CloseCode",
    "Codec",
    "CodecError",
    "ConfigurationError",
    "Connection",
    "Container",
    "ControllerSource",
    "Endpoint",
    "Envelope",
    "FieldError",
    "Guard",
    "Handshake",
    "HandshakeView",
    "Headers",
    "InvalidPayloadError",
    "InvalidToken",
    "JSON",
    "JSONCodec",
    "JSONMode",
    "LimitExceededError",
    "Limits",
    "Message",
    "MessageError",
    "MessageGuard",
    "MessageOptions",
    "MessagePackCodec",
    "MessageTypeError",
    "MissingDependencyError",
    "Overflow",
    "PathTemplate",
    "Policy",
    "Principal",
    "Prometheus",
    "QueryParams",
    "Reject",
    "RequestError",
    "RequestTimeoutError",
    "ResolutionError",
    "Service",
    "SessionClosedError",
    "SessionRegistry",
    "SessionState",
    "Telemetry",
    "WebSocketDisconnect",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketSession",
    "WebSocketStateError",
    "controller",
    "create_app",
    "discover",
    "emits",
    "handshake_schema",
    "message_mapping",
    "registry_of",
    "request_mapping",
    "rest_controller",
    "server_settings",
    "websocket_mapping",
    "websocket_policy",
]

__version__ = "0.1.0"
