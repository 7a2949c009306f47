"""Replies and pushes as plain data the codec can write: models dumped, Structs and dataclasses converted.

:func:`reply_encoder` is prepared once per handler from its return annotation; :func:`to_data`
converts anything else, finding each type's converter once.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import sys
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationError
from .payloads import library_of, name_of

__all__ = ["reply_encoder", "to_data"]

_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
_CONVERTERS: dict[type, Callable[[Any], Any]] = {}
"""The converter of each type met so far, found once per type."""


def _unchanged(value: Any) -> Any:
    return value


def to_data(value: Any) -> Any:
    """``value`` as plain data: models and Structs dumped, dataclasses as dicts, enums as their values.

    Containers are copied only where something inside them changes; plain values (bytes included, for
    MessagePack) and types not named here are left as they are, for the codec to write or refuse.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return _dict_data(value)
    if kind is list:
        return _sequence_data(value)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


def _dict_data(value: dict[Any, Any]) -> dict[Any, Any]:
    for item in value.values():  # the common case, found fast: nothing to convert
        if type(item) not in _PLAIN:
            break
    else:
        return value
    for index, (key, item) in enumerate(value.items()):
        if type(item) not in _PLAIN and (converted := to_data(item)) is not item:
            rest = iter(value.items())  # the first change: copy what came before, convert what follows
            out = dict(itertools.islice(rest, index))
            next(rest)
            out[key] = converted
            out.update((k, to_data(v)) for k, v in rest)
            return out
    return value


def _sequence_data(value: list[Any] | tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
    for item in value:
        if type(item) not in _PLAIN:
            break
    else:
        return value
    for index, item in enumerate(value):
        if type(item) not in _PLAIN and (converted := to_data(item)) is not item:
            return [*value[:index], converted, *map(to_data, value[index + 1 :])]
    return value


def _dataclass_data(cls: type) -> Callable[[Any], Any]:
    """An instance of ``cls`` as a dict of its fields' data; a value of another type goes to :func:`to_data`."""
    names = tuple(field.name for field in dataclasses.fields(cls))

    def convert(value: Any) -> Any:
        if type(value) is not cls:  # a reply of another type than the annotation's
            return to_data(value)
        out = {}
        for name in names:
            item = getattr(value, name)
            out[name] = item if type(item) in _PLAIN else to_data(item)
        return out

    return convert


def _converter(kind: type) -> Callable[[Any], Any]:
    library = library_of(kind)
    if library == "pydantic":  # a model or a pydantic dataclass
        dump = sys.modules["pydantic"].TypeAdapter(kind).dump_python
        return lambda value: dump(value, mode="json")
    if library == "msgspec":
        return sys.modules["msgspec"].to_builtins  # type: ignore[no-any-return]
    if dataclasses.is_dataclass(kind):
        return _dataclass_data(kind)
    if issubclass(kind, enum.Enum):
        return lambda value: to_data(value.value)
    if issubclass(kind, dict):
        return _dict_data
    return _sequence_data if issubclass(kind, list | tuple) else _unchanged


def reply_encoder(annotation: Any, where: str) -> Callable[[Any], Any]:
    """The encoder of a handler's replies, prepared from its return annotation; a value of another type: to_data."""
    library = library_of(annotation)
    if library == "pydantic":
        import pydantic

        try:
            dump = pydantic.TypeAdapter(annotation).dump_python
        except Exception as exc:
            raise ConfigurationError(
                f"{where}: pydantic cannot prepare the reply type {name_of(annotation)}: {exc}"
            ) from None
        return lambda value: dump(value, mode="json") if isinstance(value, annotation) else to_data(value)
    if library == "msgspec":
        to_builtins = sys.modules["msgspec"].to_builtins
        return lambda value: to_builtins(value) if isinstance(value, annotation) else to_data(value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass_data(annotation)  # itself sends a value of another type to to_data: one call fewer
    return to_data
