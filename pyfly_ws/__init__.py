"""pyfly-ws: controller-based WebSocket endpoints for any ASGI framework."""

from __future__ import annotations

from .adapter import Adapter
from .app import create_app
from .capabilities import Capabilities
from .close_codes import CloseCode
from .connection import Connection, Handshake
from .container import Container, ResolutionError
from .datastructures import Headers, QueryParams
from .discovery import ControllerSource, discover
from .endpoint import Endpoint
from .exceptions import (
    AdapterNotFoundError,
    AdapterUnavailableError,
    ConfigurationError,
    InvalidPayloadError,
    LimitExceededError,
    MessageTypeError,
    MissingDependencyError,
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketError,
    WebSocketStateError,
)
from .guards import Guard, HandshakeView, Reject
from .handler import WebSocketHandler
from .limits import Limits, Overflow
from .mapping import controller, request_mapping, rest_controller, websocket_mapping
from .paths import PathTemplate
from .policy import Policy, websocket_policy
from .registry import Service, SessionRegistry, registry_of
from .server_settings import server_settings
from .session import JSONMode, SessionState, WebSocketSession

__all__ = [
    "Adapter",
    "AdapterNotFoundError",
    "AdapterUnavailableError",
    "Capabilities",
    "CloseCode",
    "ConfigurationError",
    "Connection",
    "Container",
    "ControllerSource",
    "Endpoint",
    "Guard",
    "Handshake",
    "HandshakeView",
    "Headers",
    "InvalidPayloadError",
    "JSONMode",
    "LimitExceededError",
    "Limits",
    "MessageTypeError",
    "MissingDependencyError",
    "Overflow",
    "PathTemplate",
    "Policy",
    "QueryParams",
    "Reject",
    "ResolutionError",
    "Service",
    "SessionClosedError",
    "SessionRegistry",
    "SessionState",
    "WebSocketDisconnect",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketSession",
    "WebSocketStateError",
    "controller",
    "create_app",
    "discover",
    "registry_of",
    "request_mapping",
    "rest_controller",
    "server_settings",
    "websocket_mapping",
    "websocket_policy",
]

__version__ = "0.1.0"
