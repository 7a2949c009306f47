"""Typed payloads: a decoder per handler parameter and an encoder per reply, each prepared once.

Plain types and standard-library dataclasses are validated here, with the standard library only.
pydantic models and msgspec Structs go to their own library, never imported here: a class is one
of theirs only if the application already imported that library to define it.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import itertools
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationError

__all__ = ["Decoder", "FieldError", "PayloadError", "payload_decoder", "reply_encoder", "to_data"]

Decoder = Callable[[Any], Any]
"""Takes an envelope's decoded ``data``, returns what the handler receives; raises :class:`PayloadError`."""
SUPPORTED = "None, bool, int, float, str, bytes, dict, list, list[X], tuple[X, ...], dict[str, X], unions, Literal"


@dataclasses.dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in a payload: where (a path into it, ``()`` for the whole), what, and a machine-readable kind."""

    location: tuple[str | int, ...]
    message: str
    kind: str

    def to_data(self) -> dict[str, Any]:
        return {"location": list(self.location), "message": self.message, "kind": self.kind}


class PayloadError(Exception):
    """A payload that does not match its annotation; ``errors`` lists every problem found (at least one)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(map(str, e.location)) or 'payload'}: {e.message}" for e in self.errors)


class _Unsupported(Exception):
    """An annotation the validator cannot prepare; the message says which part and why."""


def _error(message: str, kind: str) -> PayloadError:
    return PayloadError([FieldError((), message, kind)])


def _within(key: Any, exc: PayloadError) -> list[FieldError]:
    """The errors of an item, located under ``key`` (a key that is no str or int shown by its repr)."""
    step = key if isinstance(key, str | int) else repr(key)
    return [FieldError((step, *e.location), e.message, e.kind) for e in exc.errors]


def _name(annotation: Any) -> str:
    if isinstance(annotation, str | typing.ForwardRef):
        return f"{annotation!r} (a string annotation left unresolved)"
    return annotation.__qualname__ if isinstance(annotation, type) else repr(annotation)


# Checkers: each takes a value and returns it (converted) or raises a PayloadError located from itself.


def _identity(value: Any) -> Any:
    return value


def _instance(kind: type, code: str, what: str) -> Decoder:
    exclude = bool if kind is int else ()  # JSON true is no integer

    def check(value: Any) -> Any:
        if type(value) is kind or (isinstance(value, kind) and not isinstance(value, exclude)):
            return value
        raise _error(f"Input should be {what}", code)

    return check


def _none(value: Any) -> None:
    if value is not None:
        raise _error("Input should be None", "none_required")


def _float(value: Any) -> float:
    if type(value) is float or isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise _error("Input should be a finite number", "finite_number") from None
    raise _error("Input should be a valid number", "float_type")


_SIMPLE: dict[Any, Decoder] = {
    str: _instance(str, "string_type", "a valid string"),
    int: _instance(int, "int_type", "a valid integer"),
    bool: _instance(bool, "bool_type", "a valid boolean"),
    bytes: _instance(bytes, "bytes_type", "valid bytes"),
    dict: _instance(dict, "dict_type", "a valid dictionary"),
    list: _instance(list, "list_type", "a valid list"),
    None: _none,
    type(None): _none,
}
_PURE = frozenset({_identity, *_SIMPLE.values()})
"""Checkers that return their input unchanged: a list or dict of them is returned as is, not copied."""
_SIMPLE[float] = _float


def _union(members: list[Decoder], names: list[str]) -> Decoder:
    others = [member for member in members if member is not _none]
    if len(others) == 1 < len(members):
        inner = others[0]
        return lambda value: None if value is None else inner(value)

    def check(value: Any) -> Any:
        failures = []
        for member in members:
            try:
                return member(value)
            except PayloadError as exc:
                failures.append(exc)
        deep = [exc for exc in failures if any(e.location for e in exc.errors)]
        if len(deep) == 1:  # only one member matched the shape: its errors say the most
            raise deep[0]
        raise _error(f"Input should be {' or '.join(names)}", "union_type")

    return check


def _literal(allowed: tuple[Any, ...]) -> Decoder:
    def check(value: Any) -> Any:
        for option in allowed:
            if type(value) is type(option) and value == option:
                return option
        raise _error(f"Input should be {' or '.join(map(repr, allowed))}", "literal_error")

    return check


def _array(item: Decoder, tuple_of: bool) -> Decoder:
    """``list[item]``, or ``tuple[item, ...]`` (which takes a list, as JSON arrays are)."""
    pure, shape, what = item in _PURE, (list, tuple) if tuple_of else list, "tuple" if tuple_of else "list"

    def check(value: Any) -> Any:
        if not isinstance(value, shape):
            raise _error(f"Input should be a valid {what}", f"{what}_type")
        out, errors = [], []
        for index, element in enumerate(value):
            try:
                converted = item(element)
            except PayloadError as exc:
                errors += _within(index, exc)
            else:
                if not pure:
                    out.append(converted)
        if errors:
            raise PayloadError(errors)
        result = value if pure else out
        return tuple(result) if tuple_of else result

    return check


def _mapping(string_keys: bool, item: Decoder) -> Decoder:
    """``dict[str, item]`` (keys checked: MessagePack maps may have others) or ``dict[Any, item]``."""
    pure = item in _PURE

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _error("Input should be a valid dictionary", "dict_type")
        out, errors = {}, []
        for key, element in value.items():
            try:
                if string_keys and not isinstance(key, str):
                    raise _error("Keys should be strings", "string_type")
                converted = item(element)
            except PayloadError as exc:
                errors += _within(key, exc)
            else:
                if not pure:
                    out[key] = converted
        if errors:
            raise PayloadError(errors)
        return value if pure else out

    return check


def _dataclass(cls: type, memo: dict[type, Decoder]) -> Decoder:
    """Required fields, field types and nested dataclasses checked; unknown keys ignored; built by ``cls(**fields)``."""
    if cls in memo:  # a recursive dataclass: the checker being prepared
        return memo[cls]
    plan: list[tuple[str, Decoder, bool]] = []
    what = f"Input should be a dictionary (a {cls.__qualname__})"

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _error(what, "dict_type")
        fields, errors = {}, []
        for name, field_check, required in plan:
            if name in value:
                try:
                    fields[name] = field_check(value[name])
                except PayloadError as exc:
                    errors += _within(name, exc)
            elif required:
                errors.append(FieldError((name,), "Field required", "missing"))
        if errors:
            raise PayloadError(errors)
        try:
            return cls(**fields)
        except ValueError as exc:  # from __post_init__: the dataclass's own validation
            raise _error(str(exc), "value_error") from None

    memo[cls] = check
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:
        raise _Unsupported(f"the annotations of {cls.__qualname__} cannot be resolved ({exc})") from None
    for field in (field for field in dataclasses.fields(cls) if field.init):
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        try:
            plan.append((field.name, _checker(hints[field.name], memo), required))
        except _Unsupported as exc:
            raise _Unsupported(f"field {cls.__qualname__}.{field.name}: {exc}") from None
    return check


def _library(annotation: Any) -> str | None:
    """``"pydantic"`` or ``"msgspec"`` for a class of theirs, found without importing either."""
    if not isinstance(annotation, type):
        return None
    pydantic, msgspec = sys.modules.get("pydantic"), sys.modules.get("msgspec")
    if pydantic is not None and (
        issubclass(annotation, pydantic.BaseModel)
        or (dataclasses.is_dataclass(annotation) and "__pydantic_validator__" in vars(annotation))
    ):
        return "pydantic"
    return "msgspec" if msgspec is not None and issubclass(annotation, msgspec.Struct) else None


def _pydantic(annotation: type) -> Decoder:
    import pydantic

    try:
        validate: Decoder = pydantic.TypeAdapter(annotation).validate_python
    except Exception as exc:
        raise _Unsupported(f"pydantic cannot prepare {annotation.__qualname__} ({exc})") from None

    def check(value: Any) -> Any:
        try:
            return validate(value)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise PayloadError([FieldError(tuple(e["loc"]), e["msg"], e["type"]) for e in errors]) from None

    return check


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def _msgspec_error(text: str) -> FieldError:
    """msgspec's one error, e.g. "Expected `str`, got `int` - at `$.items[0].name`", as a FieldError.

    Kinds: ``missing`` (a required field), ``extra_forbidden`` (an unknown field, where the Struct forbids them),
    ``type`` ("Expected `X`, got `Y`"), ``value`` (the rest: constraints, enum values). A dict key, which msgspec
    does not name, is located as ``"..."``.
    """
    message, _, at = text.rpartition(" - at `") if " - at `" in text else (text, "", "")
    location: list[str | int] = [m[1] or (int(m[2]) if m[2] else "...") for m in _STEP.finditer(at.rstrip("`"))]
    field = re.fullmatch(r"Object (missing required|contains unknown) field `(.*)`", message)
    if field:
        kind = "missing" if field[1] == "missing required" else "extra_forbidden"
        return FieldError((*location, field[2]), message, kind)
    return FieldError(tuple(location), message, "type" if re.match(r"Expected `[^`]*`, got `", message) else "value")


def _msgspec(annotation: type) -> Decoder:
    import msgspec

    try:  # msgspec prepares a type when first used: now, so that a field type it cannot take fails now
        msgspec.convert({}, type=annotation)
    except msgspec.ValidationError:
        pass
    except TypeError as exc:
        raise _Unsupported(f"msgspec cannot prepare {annotation.__qualname__} ({exc})") from None

    def check(value: Any) -> Any:
        try:
            return msgspec.convert(value, type=annotation)
        except msgspec.ValidationError as exc:
            raise PayloadError([_msgspec_error(str(exc))]) from None

    return check


def _checker(annotation: Any, memo: dict[type, Decoder]) -> Decoder:
    if annotation is Any or annotation is object or annotation is inspect.Parameter.empty:
        return _identity
    if annotation is None or (isinstance(annotation, type) and annotation in _SIMPLE):
        return _SIMPLE[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return _union([_checker(arg, memo) for arg in args], [_name(arg) for arg in args])
    if origin is typing.Literal:
        return _literal(args)
    if origin is list and args:
        return _array(_checker(args[0], memo), tuple_of=False)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _array(_checker(args[0], memo), tuple_of=True)
    if origin is dict and args and args[0] in (str, Any):
        return _mapping(args[0] is str, _checker(args[1], memo))
    library = _library(annotation)
    if library == "pydantic":
        return _pydantic(annotation)
    if library == "msgspec":
        return _msgspec(annotation)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass(annotation, memo)
    raise _Unsupported(f"{_name(annotation)} is not supported")


def payload_decoder(annotation: Any, where: str) -> Decoder:
    """The decoder of one handler parameter, prepared once; ``where`` names the handler in errors."""
    try:
        return _checker(annotation, {})
    except _Unsupported as exc:
        raise ConfigurationError(
            f"{where}: cannot validate a payload annotated {_name(annotation)}: {exc}. Supported: {SUPPORTED}, "
            "dataclasses of these, pydantic models and msgspec Structs; for anything else use a pydantic model "
            "or a msgspec Struct"
        ) from None


# Encoding: a handler's return value (or a push's data) as plain data the codec can write.

_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
_CONVERTERS: dict[type, Callable[[Any], Any]] = {}
"""The converter of each type met so far, found once per type."""


def to_data(value: Any) -> Any:
    """``value`` as plain data: models and Structs dumped, dataclasses as dicts; containers copied only if changed."""
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
    library = _library(kind)
    if library == "pydantic" and not dataclasses.is_dataclass(kind):
        return lambda value: value.model_dump(mode="json")
    if library == "msgspec":
        return sys.modules["msgspec"].to_builtins  # type: ignore[no-any-return]
    if dataclasses.is_dataclass(kind):
        return _dataclass_data(kind)
    if issubclass(kind, enum.Enum):
        return lambda value: to_data(value.value)
    if issubclass(kind, dict):
        return _dict_data
    return _sequence_data if issubclass(kind, list | tuple) else _identity


def reply_encoder(annotation: Any, where: str) -> Callable[[Any], Any]:
    """The encoder of a handler's replies, prepared from its return annotation; a value of another type: to_data."""
    library = _library(annotation)
    if library == "pydantic":
        import pydantic

        try:
            dump = pydantic.TypeAdapter(annotation).dump_python
        except Exception as exc:
            raise ConfigurationError(
                f"{where}: pydantic cannot prepare the reply type {_name(annotation)}: {exc}"
            ) from None
        return lambda value: dump(value, mode="json") if isinstance(value, annotation) else to_data(value)
    if library == "msgspec":
        to_builtins = sys.modules["msgspec"].to_builtins
        return lambda value: to_builtins(value) if isinstance(value, annotation) else to_data(value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass_data(annotation)  # itself sends a value of another type to to_data: one call fewer
    return to_data
