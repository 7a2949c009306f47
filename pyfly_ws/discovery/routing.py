"""Routing precedence, once for every adapter: which endpoint serves a path.

The endpoints are tried in the order given, which :func:`~pyfly_ws.discover`
makes most specific first (literal segments before parameters, ``{name:path}``
last); the first whose path *shape* matches serves the request, and converts
its parameters itself, so a value of the wrong type is refused rather than
handed to a broader endpoint. A framework router that orders routes its own
way asks :meth:`RouteTable.ahead_of` which endpoints it might pass over.

This module also decides what a client sees for the requests no endpoint
serves (:meth:`RouteTable.http_answer`); see the README's "Requests no endpoint serves".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..lifecycle.registry import Endpoint
from ..mapping.paths import Segment

__all__ = ["NOT_FOUND", "UPGRADE_REQUIRED", "HTTPAnswer", "RouteTable"]


@dataclass(frozen=True, slots=True)
class HTTPAnswer:
    """A plain HTTP response, for an adapter to write in its framework's own terms."""

    status: int
    body: str | bytes
    """The body: text is sent UTF-8 encoded."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers beyond ``content-type`` and ``content-length``."""
    media_type: str = "text/plain; charset=utf-8"
    """The ``content-type``."""

    @property
    def content(self) -> bytes:
        """The body as sent."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Every header of the response, as ASGI carries them (``content-type`` and ``content-length`` first)."""
        length = str(len(self.content)).encode()
        pairs = [(b"content-type", self.media_type.encode("latin-1")), (b"content-length", length)]
        return pairs + [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self.headers]


UPGRADE_REQUIRED = HTTPAnswer(426, "Upgrade Required: this is a WebSocket endpoint\n", (("upgrade", "websocket"),))
"""The answer to a plain HTTP request (no WebSocket upgrade) to a path an endpoint serves."""

NOT_FOUND = HTTPAnswer(404, "Not Found\n")
"""The answer to a plain HTTP request elsewhere, where no framework or fallback app answers it."""

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class RouteTable:
    """Endpoints in routing precedence: ``match(path)`` finds the one serving ``path``.

    Paths without parameters are looked up in :attr:`exact` before any
    pattern is tried, so the common case costs one dict lookup.
    """

    __slots__ = ("endpoints", "exact")

    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self.endpoints: tuple[Endpoint, ...] = tuple(endpoints)
        """The endpoints, in the order they are tried."""
        self.exact: dict[str, Endpoint] = {}
        """Paths without parameters and the endpoint serving each: the one :meth:`scan` would find first
        (an endpoint with parameters listed earlier may match such a path, and then wins)."""
        for index, endpoint in enumerate(self.endpoints):
            path = endpoint.template.path
            if (
                not endpoint.template.params
                and endpoint.template.match_raw(path) == {}
                and all(earlier.template.match_raw(path) is None for earlier in self.endpoints[:index])
            ):
                self.exact.setdefault(path, endpoint)

    def __repr__(self) -> str:
        return f"RouteTable({[endpoint.path for endpoint in self.endpoints]!r})"

    def match(self, path: str) -> tuple[Endpoint, Mapping[str, str]] | None:
        """The endpoint serving ``path`` and its raw (unconverted) parameters, or ``None``.

        Like every framework router, this matches the path's shape only; the
        endpoint then converts the parameters and refuses values that do not
        fit their types, so a mismatch is refused the same way on every adapter.
        """
        exact = self.exact.get(path)
        if exact is not None:
            return exact, _NO_PARAMS
        return self.scan(path)

    def scan(self, path: str) -> tuple[Endpoint, Mapping[str, str]] | None:
        """:meth:`match` without the :attr:`exact` lookup: the first endpoint whose pattern matches ``path``."""
        for endpoint in self.endpoints:
            params = endpoint.template.match_raw(path)
            if params is not None:
                return endpoint, params
        return None

    def ahead_of(self, endpoint: Endpoint) -> RouteTable | None:
        """The endpoints that win over ``endpoint`` for some path it matches too, then ``endpoint``; ``None`` if none.

        For an adapter whose framework router may send such a path to
        ``endpoint`` (one with a ``{name:path}`` parameter, say): the handler
        asks the returned table's :meth:`match` which endpoint really serves it.
        """
        ahead = self.endpoints[: self.endpoints.index(endpoint)]
        rivals = [other for other in ahead if _may_share_a_path(other.template.segments, endpoint.template.segments)]
        return RouteTable([*rivals, endpoint]) if rivals else None

    def http_answer(self, path: str) -> HTTPAnswer | None:
        """What a plain HTTP request to ``path`` gets: :data:`UPGRADE_REQUIRED` at an endpoint's path.

        ``None`` elsewhere: the path is not the endpoints' to answer, so the
        framework's own answer stands (:data:`NOT_FOUND` where there is none).
        """
        return UPGRADE_REQUIRED if self.match(path) is not None else None


def _may_share_a_path(first: tuple[Segment, ...], second: tuple[Segment, ...]) -> bool:
    """Whether some path fits both templates' shapes (a parameter fits any segment, ``path`` any rest)."""
    for one, other in zip(first, second, strict=False):
        if one.is_path or other.is_path:
            return True
        if one.param is None and other.param is None and one.text != other.text:
            return False
    return len(first) == len(second)
