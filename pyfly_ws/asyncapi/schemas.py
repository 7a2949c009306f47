"""JSON Schemas of payload types, for the AsyncAPI document: the same types the validator accepts, described.

Plain types, unions, ``Literal`` and standard-library dataclasses are
described here, with the standard library only, exactly as
:mod:`pyfly_ws.messages.payloads` validates them. pydantic models (and
pydantic dataclasses) are described by pydantic, msgspec Structs by msgspec,
each imported only when a type of theirs is met. Named schemas (dataclasses,
models, Structs and what they contain) go to ``components.schemas`` and are
referred to by ``$ref``; two different schemas never share a name.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Iterator
from typing import Any

from ..exceptions import ConfigurationError
from ..messages.payloads import library_of, name_of
from .docs import doc_of
from .names import safe_name

__all__ = ["REF_PREFIX", "SchemaSet", "accepts_none"]

REF_PREFIX = "#/components/schemas/"
"""Where the named schemas are, as a ``$ref`` prefix."""

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    bytes: {"type": "string", "format": "binary", "description": "bytes (a MessagePack bin; JSON cannot carry them)"},
    dict: {"type": "object"},
    list: {"type": "array"},
    None: {"type": "null"},
    type(None): {"type": "null"},
}
_JSON_VALUES = (str, int, float, bool, type(None))


def accepts_none(annotation: Any) -> bool:
    """Whether data of this annotation may be null (or left out of the envelope, which reads as null)."""
    if annotation is Any or annotation is object or annotation is inspect.Parameter.empty:
        return True
    if annotation is None or annotation is type(None):
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(accepts_none(arg) for arg in args)
    return origin is typing.Literal and None in args


class _Unsupported(Exception):
    """A type this module cannot describe; the message says which part."""


def _annotated(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """``schema`` with more keywords; a ``$ref`` is wrapped, as draft-07 ignores the siblings of ``$ref``."""
    if "$ref" in schema:
        return {"allOf": [schema], **extra}
    return {**schema, **extra}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object inside ``node``, itself included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _draft07(node: Any) -> Any:
    """A library's schema in the dialect AsyncAPI 3.0 reads (draft-07 with a string ``discriminator``).

    ``prefixItems`` (a fixed tuple) becomes draft-07's array ``items`` (then ``items`` becomes
    ``additionalItems``); an OpenAPI-style ``discriminator`` object keeps its ``propertyName``.
    """
    for item in _walk(node):
        if "prefixItems" in item:
            rest = item.pop("items", None)
            item["items"] = item.pop("prefixItems")
            if rest is not None:
                item["additionalItems"] = rest
        found = item.get("discriminator")
        if isinstance(found, dict) and isinstance(found.get("propertyName"), str):
            item["discriminator"] = found["propertyName"]
    return node


def _refs(node: Any) -> set[str]:
    return {
        item["$ref"][len(REF_PREFIX) :]
        for item in _walk(node)
        if isinstance(item.get("$ref"), str) and item["$ref"].startswith(REF_PREFIX)
    }


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """A copy of ``node`` whose ``$ref`` to a schema in ``names`` points to its new name."""
    if isinstance(node, dict):
        out = {key: _renamed(value, names) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref[len(REF_PREFIX) :] in names:
            out["$ref"] = REF_PREFIX + names[ref[len(REF_PREFIX) :]]
        return out
    if isinstance(node, list):
        return [_renamed(value, names) for value in node]
    return node


class SchemaSet:
    """The named schemas of one document, and the schema of each annotation met, described once."""

    def __init__(self) -> None:
        self._named: dict[str, dict[str, Any]] = {}
        self._classes: dict[type, str] = {}
        """The name of each standard-library dataclass described."""
        self._memo: dict[tuple[Any, bool], dict[str, Any]] = {}

    @property
    def components(self) -> dict[str, dict[str, Any]]:
        """``components.schemas``: every named schema, by name, sorted."""
        return {name: self._named[name] for name in sorted(self._named)}

    def of(self, annotation: Any, where: str, *, output: bool) -> dict[str, Any]:
        """The JSON Schema of data annotated ``annotation``; ``where`` names the declaration in errors.

        ``output``: data the server sends (serialised, as replies and pushes
        are), else data it receives (validated).
        """
        try:
            return self._of(annotation, output)
        except _Unsupported as exc:
            raise ConfigurationError(
                f"{where}: cannot describe {name_of(annotation)} in the AsyncAPI document: {exc}"
            ) from None

    # -- one annotation --------------------------------------------------------

    def _of(self, annotation: Any, output: bool) -> dict[str, Any]:
        try:
            key = (annotation, output)
            found = self._memo.get(key)
        except TypeError:  # an unhashable annotation: described each time
            key, found = None, None
        if found is not None:
            return dict(found)
        schema = self._build(annotation, output)
        if key is not None:
            self._memo[key] = schema
        return dict(schema)

    def _build(self, annotation: Any, output: bool) -> dict[str, Any]:
        if annotation is Any or annotation is object or annotation is inspect.Parameter.empty:
            return {}
        if annotation is None or (isinstance(annotation, type) and annotation in _SIMPLE):
            return dict(_SIMPLE[annotation])
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Union or origin is types.UnionType:
            members: list[dict[str, Any]] = []
            for arg in args:
                member = self._of(arg, output)
                if member not in members:
                    members.append(member)
            return {} if {} in members else {"anyOf": members}
        if origin is typing.Literal:
            return self._literal(args)
        if origin is list and args:
            return {"type": "array", "items": self._of(args[0], output)}
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self._of(args[0], output)}
        if origin is dict and args and args[0] in (str, Any):
            values = self._of(args[1], output) if len(args) > 1 else {}
            return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
        library = library_of(annotation)
        if library == "pydantic":
            return self._pydantic(annotation, output)
        if library == "msgspec":
            return self._msgspec(annotation)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            return self._dataclass(annotation, output)
        if output and isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return self._enum(annotation)  # sent as its value (to_data)
        raise _Unsupported(f"{name_of(annotation)} is not a payload type pyfly-ws validates")

    def _literal(self, args: tuple[Any, ...]) -> dict[str, Any]:
        values = []
        for arg in args:
            value = arg.value if isinstance(arg, enum.Enum) else arg
            if not isinstance(value, _JSON_VALUES):
                raise _Unsupported(f"the Literal value {arg!r} is not a JSON value")
            values.append(value)
        return {"const": values[0]} if len(values) == 1 else {"enum": values}

    def _enum(self, cls: type[enum.Enum]) -> dict[str, Any]:
        values = [member.value for member in cls]
        if not all(isinstance(value, _JSON_VALUES) for value in values):
            raise _Unsupported(f"the values of {cls.__qualname__} are not all JSON values")
        schema: dict[str, Any] = {"title": cls.__name__, "enum": values}
        doc = doc_of(cls)
        return self._named_schema(cls, {**schema, "description": doc} if doc else schema)

    def _named_schema(self, cls: type, schema: dict[str, Any]) -> dict[str, Any]:
        name = self._class_name(cls)
        self._named[name] = schema
        return {"$ref": REF_PREFIX + name}

    def _class_name(self, cls: type) -> str:
        """The name of a class described here: its own, else with its module, else numbered."""
        name = self._classes.get(cls)
        if name is not None:
            return name
        candidates = [safe_name(cls.__name__), safe_name(f"{cls.__module__}.{cls.__qualname__}")]
        name = next((c for c in candidates if c not in self._named), None) or self._numbered(candidates[1])
        self._classes[cls] = name
        self._named[name] = {}  # reserved: a recursive dataclass refers to itself while being described
        return name

    def _numbered(self, base: str) -> str:
        number = 2
        while f"{base}-{number}" in self._named:
            number += 1
        return f"{base}-{number}"

    def _dataclass(self, cls: type, output: bool) -> dict[str, Any]:
        if cls in self._classes:
            return {"$ref": REF_PREFIX + self._classes[cls]}
        name = self._class_name(cls)
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception as exc:
            raise _Unsupported(f"the annotations of {cls.__qualname__} cannot be resolved ({exc})") from None
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            if isinstance(hint, dataclasses.InitVar):
                raise _Unsupported(f"field {cls.__qualname__}.{field.name}: InitVar is not supported")
            try:
                schema = self._of(hint, output)
            except _Unsupported as exc:
                raise _Unsupported(f"field {cls.__qualname__}.{field.name}: {exc}") from None
            extra: dict[str, Any] = {}
            if not field.init:
                extra["readOnly"] = True  # sent, never read: the validator ignores it
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                required.append(field.name)
            elif isinstance(field.default, _JSON_VALUES) and not isinstance(field.default, float | enum.Enum):
                extra["default"] = field.default
            properties[field.name] = _annotated(schema, **extra) if extra else schema
        described: dict[str, Any] = {"type": "object", "title": cls.__name__}
        doc = doc_of(cls)
        if doc:
            described["description"] = doc
        described["properties"] = properties
        if required:
            described["required"] = required
        self._named[name] = described
        return {"$ref": REF_PREFIX + name}

    def _pydantic(self, annotation: type, output: bool) -> dict[str, Any]:
        from pydantic.json_schema import models_json_schema

        mode: Any = "serialization" if output else "validation"
        by_alias = True
        if output:  # replies and pushes are dumped with mode="json", by field name unless the model says otherwise
            config = getattr(annotation, "model_config", None) or getattr(annotation, "__pydantic_config__", None)
            by_alias = bool((config or {}).get("serialize_by_alias", False))
        try:
            refs, holder = models_json_schema(
                [(annotation, mode)], by_alias=by_alias, ref_template=REF_PREFIX + "{model}"
            )
        except Exception as exc:  # pydantic's errors for a type it cannot describe, whatever their class
            raise _Unsupported(f"pydantic cannot describe it ({exc})") from None
        top = refs[(annotation, mode)]
        return self._merged(top, holder.get("$defs", {}), "Output" if output else "Input")

    def _msgspec(self, annotation: type) -> dict[str, Any]:
        import msgspec

        try:
            (top,), defs = msgspec.json.schema_components([annotation], ref_template=REF_PREFIX + "{name}")
        except (TypeError, ValueError) as exc:
            raise _Unsupported(f"msgspec cannot describe it ({exc})") from None
        return self._merged(top, defs, "")

    def _merged(self, top: dict[str, Any], defs: dict[str, Any], suffix: str) -> dict[str, Any]:
        """Add a library's named schemas (renaming those whose name another schema has) and return ``top``."""
        defs = {name: _draft07(schema) for name, schema in defs.items()}
        wanted = {name: safe_name(name) for name in defs}
        clash = {
            name for name in defs if wanted[name] != name or self._named.get(wanted[name], defs[name]) != defs[name]
        }
        changed = True
        while changed:  # a schema that refers to a renamed one is not the one of the same name either
            changed = False
            for name, schema in defs.items():
                if name not in clash and _refs(schema) & clash:
                    clash.add(name)
                    changed = True
        names: dict[str, str] = {}
        for name in sorted(clash):
            for candidate in _candidates(wanted[name], suffix):
                existing = self._named.get(candidate)
                if existing is None or existing == _renamed(defs[name], {**names, name: candidate}):
                    names[name] = candidate
                    break
        for name, schema in defs.items():
            self._named.setdefault(names.get(name, name), _renamed(schema, names))
        return typing.cast(dict[str, Any], _draft07(_renamed(top, names)))


def _candidates(base: str, suffix: str) -> Iterator[str]:
    stem = f"{base}-{suffix}" if suffix else base
    if suffix:
        yield stem
    number = 2
    while True:
        yield f"{stem}-{number}"
        number += 1
