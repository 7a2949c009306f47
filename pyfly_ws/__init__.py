"""pyfly-ws: controller-based WebSocket endpoints for any ASGI framework."""

from __future__ import annotations

from .adapter import Adapter
from .app import create_app
from .capabilities import Capabilities
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
    MessageTypeError,
    MissingDependencyError,
    SessionClosedError,
    WebSocketDisconnect,
    WebSocketError,
    WebSocketStateError,
)
from .lifecycle.apps import registry_of
from .lifecycle.registry import Endpoint, Service, SessionRegistry
from .mapping.decorators import controller, request_mapping, rest_controller, websocket_mapping
from .mapping.guards import Guard, HandshakeView, Reject
from .mapping.limits import Limits, Overflow
from .mapping.paths import PathTemplate
from .mapping.policy import Policy, websocket_policy
from .servers.settings import server_settings
from .session.connection import Connection, Handshake
from .session.handler import WebSocketHandler
from .session.session import JSONMode, SessionState, WebSocketSession

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
