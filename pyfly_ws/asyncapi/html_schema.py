"""A JSON Schema as the rows of a field table: what :mod:`pyfly_ws.asyncapi.html` shows of a payload.

Nested objects become dotted names (``data.text``), array items ``[]``
(``data.items[].id``), a map's values ``*``; ``allOf`` is merged, and each
``anyOf``/``oneOf`` variant's fields are listed, marked with their variant
(one that only adds ``null`` is just a nullable type). A ``$ref`` is
followed inside the document (``#/components/schemas/...``); a schema that
refers to itself, at any depth, is listed once and marked recursive, and a
table stops at :data:`MAX_ROWS` rows, so no document makes the page explode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_ROWS", "Lookup", "Row", "payload_rows", "schema_facts", "schema_rows"]

Lookup = Callable[[str], Any]
"""The node a local ``$ref`` points at in the document, or ``None``."""

MAX_DEPTH = 16
"""Nesting levels shown, at most."""
MAX_ROWS = 500
"""Rows of one table, at most; a last row says how many more there were not shown."""

_FACTS = (
    ("format", "format: {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("pattern", "matches {}"),
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("multipleOf", "a multiple of {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} entries"),
    ("maxProperties", "at most {} entries"),
)


@dataclass(frozen=True)
class Row:
    """One field of a table."""

    name: str
    """The dotted path: ``data.text``, ``items[].id``."""
    type: str
    """The type, as read: ``string``, ``integer | null``, ``array of object (Member)``."""
    required: bool
    description: object
    """The schema's ``description`` (any value; the page shows text only)."""
    facts: list[str]
    """``const``, ``enum``, ``default``, formats and bounds, examples: short phrases."""
    depth: int
    """How deep the field is nested: 0 for a payload's own fields."""


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def schema_facts(schema: Mapping[str, Any]) -> list[str]:
    """What a schema (or a channel parameter) says of its value beyond its type, in short phrases."""
    facts = []
    if "const" in schema:
        facts.append(f"always {_dump(schema['const'])}")
    if isinstance(schema.get("enum"), list):
        facts.append("one of " + ", ".join(_dump(value) for value in schema["enum"]))
    if "default" in schema:
        facts.append(f"default {_dump(schema['default'])}")
    for key, phrase in _FACTS:
        if key in schema and not isinstance(schema[key], Mapping | list):
            facts.append(phrase.format(schema[key]))
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        facts.append("e.g. " + ", ".join(_dump(value) for value in schema["examples"][:3]))
    if schema.get("deprecated") is True:
        facts.append("deprecated")
    return facts


class _Walk:
    """Rows of one schema, with the references followed so far."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def follow(self, node: Any) -> tuple[Mapping[str, Any], tuple[str, ...], str | None]:
        """``node`` with its ``$ref`` chain followed; the references on the way; a reference not found."""
        refs: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in refs:
                return {}, tuple(refs), None
            refs.append(ref)
            target = self.lookup(ref)
            if not isinstance(target, Mapping):
                return {}, tuple(refs), ref
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            node = {**target, **siblings} if siblings else target
        return (node if isinstance(node, Mapping) else {}), tuple(refs), None

    def members(
        self, schema: Mapping[str, Any], merging: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], set[str]]:
        """The properties of ``schema`` and the required ones, its ``allOf`` parts merged in (each once)."""
        properties: dict[str, Any] = {}
        required: set[str] = set()
        for part in _list(schema.get("allOf")):
            sub, refs, _ = self.follow(part)
            if merging.isdisjoint(refs):
                more, needed = self.members(sub, merging.union(refs))
                properties.update(more)
                required |= needed
        own = schema.get("properties")
        if isinstance(own, Mapping):
            properties.update({str(name): value for name, value in own.items()})
        if isinstance(schema.get("required"), list):
            required.update(str(name) for name in schema["required"])
        return properties, required

    def label(self, schema: Mapping[str, Any], refs: tuple[str, ...], missing: str | None, seen: frozenset[str]) -> str:
        """The type of ``schema`` as the table shows it, named after the component it comes from."""
        if missing is not None:
            return f"{missing} (not found)"
        name = str(schema.get("title") or "") or (_ref_name(refs[-1]) if refs else "")
        if not seen.isdisjoint(refs):
            return f"{name or 'schema'} (recursive, see above)"
        kind = self.kind(schema, seen.union(refs))
        return f"{kind} ({name})" if name and name != kind else kind

    def kind(self, schema: Mapping[str, Any], seen: frozenset[str]) -> str:
        declared = schema.get("type")
        types = [declared] if isinstance(declared, str) else [t for t in _list(declared) if isinstance(t, str)]
        if not types and "const" in schema:
            types = [_json_type(schema["const"])]
        if not types and isinstance(schema.get("enum"), list):
            types = list(dict.fromkeys(_json_type(value) for value in schema["enum"]))
        variants = _variants(schema)
        if not types and variants:
            labels = [self.label(*self.follow(variant), seen) for variant in variants]
            return " | ".join(dict.fromkeys(labels))
        if not types and (schema.get("properties") or schema.get("allOf") or schema.get("additionalProperties")):
            types = ["object"]
        if not types and "items" in schema:
            types = ["array"]
        shown = []
        for kind in sorted(types, key=lambda t: t == "null"):
            items = schema.get("items")
            if kind == "array" and isinstance(items, Mapping):
                kind = f"array of {self.label(*self.follow(items), seen)}"
            shown.append(kind)
        return " | ".join(shown) or "any"

    def rows(self, raw: Any, prefix: str, seen: frozenset[str], depth: int) -> Iterator[Row]:
        """The fields inside ``raw``, named under ``prefix``, at ``depth``."""
        schema, refs, _ = self.follow(raw)
        if not seen.isdisjoint(refs) or depth > MAX_DEPTH:
            return
        seen = seen.union(refs)
        properties, required = self.members(schema, frozenset(refs))
        for name, value in properties.items():
            path = f"{prefix}.{name}" if prefix else name
            yield from self.field(path, value, name in required, seen, depth)
        items = schema.get("items")
        if isinstance(items, Mapping):
            yield from self.rows(items, f"{prefix}[]", seen, depth)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and extra:
            yield from self.field(f"{prefix}.*" if prefix else "*", extra, False, seen, depth)
        variants = [v for v in _variants(schema) if self.follow(v)[0].get("type") != "null"]
        for number, variant in enumerate(variants, 1):
            for row in self.rows(variant, prefix, seen, depth):
                yield row if len(variants) == 1 else replace(row, facts=[f"variant {number}", *row.facts])

    def field(self, path: str, raw: Any, required: bool, seen: frozenset[str], depth: int) -> Iterator[Row]:
        schema, refs, missing = self.follow(raw)
        label = self.label(schema, refs, missing, seen)
        yield Row(path, label, required, schema.get("description"), schema_facts(schema), depth)
        if seen.isdisjoint(refs):
            yield from self.rows(raw, path, seen, depth + 1)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _variants(schema: Mapping[str, Any]) -> list[Any]:
    """The schemas of ``anyOf`` (else ``oneOf``)."""
    return _list(schema.get("anyOf")) or _list(schema.get("oneOf"))


def _ref_name(ref: str) -> str:
    """The last segment of the reference a schema was found by (``#/components/schemas/Member``: ``Member``)."""
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


def schema_rows(lookup: Lookup, schema: Any) -> list[Row]:
    """The field rows of ``schema`` (at most :data:`MAX_ROWS`, then one row saying how many were left out)."""
    found = list(islice(_Walk(lookup).rows(schema, "", frozenset(), 0), MAX_ROWS + 1))
    if len(found) > MAX_ROWS:
        found[MAX_ROWS:] = [Row("…", "", False, None, ["more fields not shown"], 0)]
    return found


def payload_rows(lookup: Lookup, payload: Any) -> list[Row]:
    """:func:`schema_rows`; a payload that is not an object is one row, ``(payload)``, with its type."""
    rows = schema_rows(lookup, payload)
    if rows:
        return rows
    walk = _Walk(lookup)
    schema, refs, missing = walk.follow(payload)
    label = walk.label(schema, refs, missing, frozenset())
    return [Row("(payload)", label, True, schema.get("description"), schema_facts(schema), 0)]
