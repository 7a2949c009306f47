"""The AsyncAPI 3.0.0 document of some endpoints, as plain dicts in a stable order.

Maps whose order means nothing (channels, operations, messages, schemas,
servers) are sorted by name; objects keep the order of the specification's
fields; a schema's properties keep the order of the type's fields. The same
endpoints and options give the same document, byte for byte once written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import ConfigurationError
from ..lifecycle.registry import Endpoint
from .channels import CONTENT_TYPES, describe_endpoint
from .names import Names
from .options import AsyncAPI
from .project import Project, project_of
from .schemas import SchemaSet

__all__ = ["ASYNCAPI_VERSION", "DEFAULT_TITLE", "DEFAULT_VERSION", "asyncapi_document"]

ASYNCAPI_VERSION = "3.0.0"
DEFAULT_TITLE = "pyfly-ws application"
"""The title when neither the options nor a ``pyproject.toml`` name the application."""
DEFAULT_VERSION = "0.0.0"


def asyncapi_document(endpoints: Sequence[Endpoint], options: AsyncAPI | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document describing ``endpoints``.

    ``options`` give the title, version, description and servers; the title,
    version and description not given come from the ``[project]`` table of
    the nearest ``pyproject.toml`` above the working directory. Raises
    :class:`~pyfly_ws.ConfigurationError` for a payload type it cannot
    describe, a misplaced ``@emits``, or a server URL that is not
    ``ws://`` or ``wss://``.
    """
    options = AsyncAPI() if options is None else options
    document: dict[str, Any] = {"asyncapi": ASYNCAPI_VERSION, "info": _info(options)}
    servers = _servers(options.servers)
    if servers:
        document["servers"] = servers
    document["defaultContentType"] = CONTENT_TYPES["json"]
    schemas, messages, operations, channel_ids = SchemaSet(), Names(), Names(), Names()
    channels: dict[str, Any] = {}
    components: dict[str, Any] = {}
    security: dict[str, Any] = {}
    described_operations: dict[str, Any] = {}
    for endpoint in sorted(endpoints, key=lambda e: (e.path, e.qualname)):
        channel_id = channel_ids.new(endpoint.qualname.replace("<locals>.", ""))
        described = describe_endpoint(endpoint, channel_id, schemas, messages, operations, security)
        channels[channel_id] = described.channel
        components.update(described.messages)
        described_operations.update(described.operations)
        security.update(described.schemes)
    document["channels"] = _sorted(channels)
    document["operations"] = _sorted(described_operations)
    parts: dict[str, Any] = {}
    if schemas.components:
        parts["schemas"] = schemas.components
    if components:
        parts["messages"] = _sorted(components)
    if security:
        parts["securitySchemes"] = _sorted(security)
    if parts:
        document["components"] = parts
    return document


def _sorted(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {name: mapping[name] for name in sorted(mapping)}


def _info(options: AsyncAPI) -> dict[str, Any]:
    given = (options.title, options.version, options.description)
    project = project_of() if None in given else Project()
    for name, value in zip(("title", "version", "description"), given, strict=True):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"AsyncAPI {name} is a string, got {value!r}")
    info: dict[str, Any] = {
        "title": options.title or project.name or DEFAULT_TITLE,
        "version": options.version or project.version or DEFAULT_VERSION,
    }
    description = options.description or project.description
    if description:
        info["description"] = description
    return info


def _servers(servers: Mapping[str, str]) -> dict[str, Any]:
    """The ``servers`` object: each URL (``ws://host:port/prefix``) as host, protocol and pathname."""
    if not isinstance(servers, Mapping):
        raise ConfigurationError(f"AsyncAPI servers map a name to a ws:// or wss:// URL, got {servers!r}")
    for name in servers:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"an AsyncAPI server's name is a non-empty string, got {name!r}")
    found: dict[str, Any] = {}
    for name in sorted(servers):
        url = servers[name]
        try:
            parts = urlsplit(url) if isinstance(url, str) else None
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigurationError(f"AsyncAPI server {name!r}: expected a ws:// or wss:// URL, got {url!r}")
        if parts.username is not None or parts.query or parts.fragment:
            raise ConfigurationError(f"AsyncAPI server {name!r}: a server URL has no user, query or fragment: {url!r}")
        server: dict[str, Any] = {"host": parts.netloc, "protocol": parts.scheme}
        if parts.path.strip("/"):
            server["pathname"] = "/" + parts.path.strip("/")
        found[name] = server
    return found
