"""``@handshake_schema``: the query parameters and headers a guard (or an endpoint) reads from the handshake.

Metadata for the AsyncAPI document only (its WebSocket channel binding):
guards and handlers read the handshake as they always do. Mark a guard, a
controller class (every endpoint of it) or a mapped method; the document
merges the marks of an endpoint's guards (the application's, the
controller's, the mapping's) with those of its class and method.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..exceptions import ConfigurationError

__all__ = ["HANDSHAKE_MARK", "HandshakeSchema", "declared_handshake", "handshake_schema"]

T = TypeVar("T")

HANDSHAKE_MARK = "__pyfly_ws_handshake__"
"""The attribute holding a guard's, a class's or a method's declaration."""

Described = str | Mapping[str, Any]
"""A parameter's description (its value is any string), or the JSON Schema of its value."""


@dataclass(frozen=True, slots=True)
class HandshakeSchema:
    """What a handshake carries for one guard or endpoint: each a name with the JSON Schema of its value."""

    query: tuple[tuple[str, dict[str, Any]], ...] = ()
    """Query parameters, as declared."""
    headers: tuple[tuple[str, dict[str, Any]], ...] = ()
    """Headers, as declared (compared without case)."""
    required: frozenset[str] = frozenset()
    """The names, among both, without which the handshake is refused."""

    def then(self, other: HandshakeSchema) -> HandshakeSchema:
        """This declaration and ``other``'s: a name declared by both keeps this one's schema."""
        query = dict(self.query)
        for name, schema in other.query:
            query.setdefault(name, schema)
        headers = {name.lower(): (name, schema) for name, schema in self.headers}
        for name, schema in other.headers:
            headers.setdefault(name.lower(), (name, schema))
        return HandshakeSchema(tuple(query.items()), tuple(headers.values()), self.required | other.required)


def _schema(where: str, name: object, value: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(name, str) or not name:
        raise TypeError(f"@handshake_schema: a {where} name is a non-empty string, got {name!r}")
    if isinstance(value, str):
        return name, {"type": "string", "description": value}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"@handshake_schema: {where} {name!r} is described by a string or a JSON Schema mapping, got {value!r}"
        )
    try:
        schema = json.loads(json.dumps(dict(value), sort_keys=False))  # a copy, and proof that it is JSON
    except (TypeError, ValueError) as exc:
        raise TypeError(f"@handshake_schema: the schema of {where} {name!r} is not JSON ({exc})") from None
    return name, schema


def handshake_schema(
    *,
    query: Mapping[str, Described] | None = None,
    headers: Mapping[str, Described] | None = None,
    required: Iterable[str] = (),
) -> Callable[[T], T]:
    """Declare the query parameters and headers the marked guard, controller class or endpoint method reads.

    Each maps a name to a description (``{"token": "the access token"}``:
    any string) or to the JSON Schema of the value (``{"mode": {"enum":
    ["text", "binary"]}}``). ``required`` names those whose absence refuses
    the handshake. Only the AsyncAPI document reads the declaration.
    """
    if isinstance(required, str):
        raise TypeError("@handshake_schema: required is a list of names, not one string")
    query_items = tuple(_schema("query parameter", name, value) for name, value in dict(query or {}).items())
    header_items = tuple(_schema("header", name, value) for name, value in dict(headers or {}).items())
    lowered = [name.lower() for name, _ in header_items]
    if len(set(lowered)) != len(lowered):
        raise ConfigurationError(f"@handshake_schema: headers are named without case, got {sorted(lowered)}")
    names = {name for name, _ in query_items} | set(lowered)
    needed = frozenset(required)
    unknown = sorted(name for name in needed if name not in names and name.lower() not in names)
    if unknown:
        raise ConfigurationError(f"@handshake_schema: required names {unknown}, declared in neither query nor headers")
    declared = HandshakeSchema(query_items, header_items, needed)

    def decorate(target: T) -> T:
        holder: Any = getattr(target, "__func__", target)
        if not callable(holder):
            raise TypeError("@handshake_schema decorates a guard, a controller class or a mapped method")
        found = declared_handshake(holder)
        try:
            setattr(holder, HANDSHAKE_MARK, declared if found is None else declared.then(found))
        except (AttributeError, TypeError):
            raise TypeError(f"@handshake_schema cannot mark {target!r}") from None
        return target

    return decorate


def declared_handshake(obj: Any) -> HandshakeSchema | None:
    """The declaration on a guard, a class or a method (looking through methods, partials and ``__wrapped__``)."""
    for _ in range(8):
        found = getattr(obj, HANDSHAKE_MARK, None)
        if isinstance(found, HandshakeSchema):
            return found
        if isinstance(obj, type):
            return None
        inner = obj.func if isinstance(obj, functools.partial) else getattr(obj, "__func__", None)
        inner = inner or getattr(obj, "__wrapped__", None)
        if inner is None or inner is obj:
            return None
        obj = inner
    return None
