"""Falcon routes for pyfly-ws endpoints: one resource with an ``on_websocket`` responder per endpoint.

Falcon's compiled router refuses two templates that name the fields of one
level differently (``/rooms/{id}`` beside ``/rooms/{room_id}/members``), so
fields are named by position (``p0``, ``p1``, ...) and mapped back to the
endpoint's own names; the values stay strings and the core converts them.
Two converters registered on the app capture them: ``pyfly_str`` (one
segment) and ``pyfly_path`` (the rest of the path). Unlike Falcon's plain
field and ``path``, neither matches an empty string, so ``/rooms/`` falls
through to a less specific endpoint as it does on every other adapter.

The router also cannot hold ``{a}`` and ``{b:path}`` at the same level
(``/files/{name}`` beside ``/files/{rest:path}``). Every endpoint with a
parameter at such a level is served by one route, ``/files/{p0:pyfly_path}``, whose
:class:`EndpointGroup` asks the core's :class:`~pyfly_ws.adapter.RouteTable` which one serves the path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from falcon.asgi import App, Request, WebSocket
from falcon.routing import BaseConverter
from pyfly_ws import CloseCode, ConfigurationError, Endpoint, discover
from pyfly_ws.adapter import RouteTable

from . import media
from .connection import FalconConnection

__all__ = [
    "EndpointGroup",
    "EndpointResource",
    "RestConverter",
    "SegmentConverter",
    "add_endpoints",
    "add_routes",
    "falcon_template",
]

logger = logging.getLogger("pyfly_ws.falcon")


class SegmentConverter(BaseConverter):
    """``pyfly_str``: one non-empty path segment, as it is."""

    def convert(self, value: str) -> str | None:
        return value or None


class RestConverter(BaseConverter):
    """``pyfly_path``: the non-empty rest of the path, as it is (a last field only, like Falcon's ``path``)."""

    CONSUME_MULTIPLE_SEGMENTS = True

    def convert(self, value: Iterable[str]) -> str | None:  # the segments, as a list
        return "/".join(value) or None


def falcon_template(endpoint: Endpoint) -> tuple[str, dict[str, str]]:
    """The endpoint's path in Falcon's syntax, and the endpoint parameter each Falcon field carries.

    ``/rooms/{room_id:int}/files/{rest:path}`` gives ``/rooms/{p0:pyfly_str}/files/{p1:pyfly_path}``
    and ``{"p0": "room_id", "p1": "rest"}``.
    """
    fields: dict[str, str] = {}

    def field(name: str, is_path: bool) -> str:
        key = f"p{len(fields)}"
        fields[key] = name
        return f"{{{key}:pyfly_path}}" if is_path else f"{{{key}:pyfly_str}}"

    return endpoint.template.render(field), fields


class EndpointResource:
    """A Falcon resource serving one endpoint; plain HTTP to its path gets Falcon's 405 (``create_app``: 426)."""

    __slots__ = ("endpoint", "fields")

    def __init__(self, endpoint: Endpoint, fields: Mapping[str, str]) -> None:
        self.endpoint = endpoint
        self.fields = dict(fields)

    def __repr__(self) -> str:
        return f"<EndpointResource {self.endpoint.qualname} at {self.endpoint.path}>"

    async def on_websocket(self, req: Request, ws: WebSocket, /, **params: str) -> None:
        # Positional-only, so that a path parameter may be called "req" or "ws".
        raw = {self.fields.get(key, key): value for key, value in params.items()}
        await self.endpoint.serve(FalconConnection(req, ws), raw)


class EndpointGroup:
    """A Falcon resource serving endpoints that Falcon's router cannot tell apart, matched by the core's routing."""

    __slots__ = ("routes",)

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.routes = RouteTable(endpoints)

    def __repr__(self) -> str:
        return f"<EndpointGroup {', '.join(e.path for e in self.endpoints)}>"

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """The endpoints this route serves, in the order they are tried."""
        return self.routes.endpoints

    def add(self, endpoint: Endpoint) -> None:
        """Serve ``endpoint`` too, tried after the others."""
        self.routes = RouteTable([*self.routes.endpoints, endpoint])

    async def on_websocket(self, req: Request, ws: WebSocket, /, **params: str) -> None:
        connection = FalconConnection(req, ws)
        found = self.routes.match(req.path)  # by shape, as routers do; serve() checks the types
        if found is not None:
            await found[0].serve(connection, found[1])
            return
        logger.debug("refusing WebSocket handshake for %s: no endpoint at this path", req.path)
        await connection.close(CloseCode.POLICY_VIOLATION, "")


def _ambiguous_levels(endpoints: Sequence[Endpoint]) -> set[tuple[str, ...]]:
    """The path prefixes under which some endpoints have a plain parameter and others a ``path`` one."""
    kinds: dict[tuple[str, ...], set[str]] = {}
    for endpoint in endpoints:
        shape = endpoint.template.shape
        for level, segment in enumerate(shape):
            if segment.startswith("{"):
                kinds.setdefault(shape[:level], set()).add(segment)
    return {prefix for prefix, found in kinds.items() if len(found) > 1}


def _group_template(endpoint: Endpoint, level: int) -> str:
    """The endpoint's Falcon template up to ``level``, ending there in a ``path`` field."""
    prefix = falcon_template(endpoint)[0].split("/")[1 : level + 1]
    fields_before = sum(part.startswith("{") for part in prefix)
    return "/" + "/".join([*prefix, f"{{p{fields_before}:pyfly_path}}"])


def add_endpoints(app: App[Any, Any], endpoints: Iterable[Endpoint]) -> None:
    """Route already discovered ``endpoints`` in ``app``, in the order given (discovery puts the most specific first).

    Also wraps the app's WebSocket media handlers (see :mod:`pyfly_ws_falcon.media`).
    """
    media.install(app.ws_options)
    app.router_options.converters.update(pyfly_str=SegmentConverter, pyfly_path=RestConverter)
    endpoints = list(endpoints)
    ambiguous = _ambiguous_levels(endpoints)
    groups: dict[str, EndpointGroup] = {}
    for endpoint in endpoints:
        shape = endpoint.template.shape
        level = next((n for n, s in enumerate(shape) if s.startswith("{") and shape[:n] in ambiguous), None)
        if level is None:
            template, fields = falcon_template(endpoint)
            resource: EndpointResource | EndpointGroup = EndpointResource(endpoint, fields)
        else:
            template = _group_template(endpoint, level)
            if template in groups:
                groups[template].add(endpoint)
                continue
            resource = groups[template] = EndpointGroup([endpoint])
        try:
            app.add_route(template, resource)
        except ValueError as exc:
            raise ConfigurationError(
                f"Falcon cannot route {endpoint.path!r} ({endpoint.qualname}) as {template!r} "
                f"beside the app's other routes: {exc}"
            ) from exc


def add_routes(app: App[Any, Any], source: object) -> None:
    """Route every endpoint in ``source`` (anything :func:`pyfly_ws.discover` accepts) in an existing Falcon app.

    The app's own routes, sinks and error handling stay as they are; see the
    README for the two differences from :func:`pyfly_ws_falcon.create_app`.
    """
    add_endpoints(app, discover(source))
