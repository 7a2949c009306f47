"""Path joining and path templates such as ``/rooms/{room_id:int}``.

Every adapter captures parameters as plain strings through its framework's
router; the template here checks and converts them, so ``{id:int}`` gives the
same ``int`` and rejects the same inputs on every adapter.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError

__all__ = ["CONVERTERS", "Converter", "PathTemplate", "join_paths"]

_PARAM = re.compile(r"^\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<conv>[A-Za-z_]+))?\}$")


def join_paths(base: str, path: str) -> str:
    """Join a base path and a mapping path with exactly one slash, no trailing slash.

    ``("/ws", "echo")``, ``("/ws/", "/echo")`` and ``("ws", "echo")`` all give
    ``/ws/echo``; ``("/ws", "")`` gives ``/ws`` and ``("", "")`` gives ``/``.
    """
    segments = [part.strip() for part in f"{base}/{path}".split("/")]
    return "/" + "/".join(part for part in segments if part)


class Converter:
    """How one parameter type matches a raw segment and turns it into a value."""

    __slots__ = ("name", "regex", "_pattern", "_convert")

    def __init__(self, name: str, regex: str, convert: Callable[[str], Any]) -> None:
        self.name = name
        self.regex = regex
        self._pattern = re.compile(regex)
        self._convert = convert

    def __repr__(self) -> str:
        return f"Converter({self.name!r})"

    def __call__(self, raw: str) -> Any:
        """Convert ``raw``, or raise ``ValueError`` when it is not of this type."""
        if self._pattern.fullmatch(raw) is None:
            raise ValueError(f"{raw!r} is not a valid {self.name}")
        return self._convert(raw)


CONVERTERS: Mapping[str, Converter] = {
    "str": Converter("str", r"[^/]+", str),
    "int": Converter("int", r"-?[0-9]+", int),
    "float": Converter("float", r"-?[0-9]+(?:\.[0-9]+)?", float),
    "uuid": Converter(
        "uuid",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        uuid.UUID,
    ),
    "path": Converter("path", r".+", str),
}
"""The parameter types a template may name: ``{name}`` is ``{name:str}``."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``/``-separated piece of a template: literal text or a parameter."""

    text: str
    param: str | None = None
    converter: Converter | None = None

    @property
    def is_path(self) -> bool:
        """Whether this parameter may span several segments (``{name:path}``)."""
        return self.converter is not None and self.converter.name == "path"


class PathTemplate:
    """A normalised endpoint path, parsed into literal and parameter segments."""

    __slots__ = ("path", "segments", "params", "_regex", "_raw_regex")

    def __init__(self, path: str) -> None:
        self.path = path
        self.segments = tuple(_parse_segment(text, path) for text in path.strip("/").split("/") if text)
        self.params: dict[str, Converter] = {}
        for index, segment in enumerate(self.segments):
            if segment.param is None or segment.converter is None:
                continue
            if segment.param in self.params:
                raise ConfigurationError(f"path {path!r} names parameter {segment.param!r} twice")
            if segment.is_path and index != len(self.segments) - 1:
                raise ConfigurationError(
                    f"path {path!r}: a {{{segment.param}:path}} parameter must be the last segment"
                )
            self.params[segment.param] = segment.converter
        pattern = "".join(
            "/" + (f"(?P<{s.param}>{s.converter.regex})" if s.converter else re.escape(s.text)) for s in self.segments
        )
        self._regex = re.compile(pattern or "/")
        raw = "".join(
            "/" + (f"(?P<{s.param}>{'.+' if s.is_path else '[^/]+'})" if s.param else re.escape(s.text))
            for s in self.segments
        )
        self._raw_regex = re.compile(raw or "/")

    def __repr__(self) -> str:
        return f"PathTemplate({self.path!r})"

    @property
    def shape(self) -> tuple[str, ...]:
        """The template with parameter names and types erased, for overlap checks."""
        return tuple(s.text if s.param is None else ("{path}" if s.is_path else "{}") for s in self.segments)

    @property
    def specificity(self) -> tuple[int, ...]:
        """A sort key that puts literal segments before parameters, and ``path`` last."""
        return tuple(0 if s.param is None else 2 if s.is_path else 1 for s in self.segments)

    def render(self, param: Callable[[str, bool], str]) -> str:
        """Rewrite the template for a framework: ``param(name, is_path)`` spells each parameter."""
        parts = [s.text if s.param is None else param(s.param, s.is_path) for s in self.segments]
        return "/" + "/".join(parts)

    def convert(self, raw: Mapping[str, str]) -> dict[str, Any] | None:
        """Check and convert the raw strings a router captured; ``None`` if one does not fit."""
        try:
            return {name: conv(raw[name]) for name, conv in self.params.items()}
        except (KeyError, ValueError):
            return None

    def match_raw(self, path: str) -> dict[str, str] | None:
        """Match ``path`` by shape alone, as a framework router does: parameters as unconverted strings."""
        found = self._raw_regex.fullmatch(path)
        return None if found is None else found.groupdict()

    def match(self, path: str) -> dict[str, Any] | None:
        """Match a request path and convert its parameters; ``None`` if it is not this endpoint."""
        found = self._regex.fullmatch(path)
        if found is None:
            return None
        return self.convert(found.groupdict()) if self.params else {}


def _parse_segment(text: str, path: str) -> Segment:
    if "{" not in text and "}" not in text:
        return Segment(text)
    found = _PARAM.match(text)
    if found is None:
        raise ConfigurationError(
            f"path {path!r}: segment {text!r} must be literal text or a whole parameter "
            "such as {name} or {name:int}"
        )
    conv_name = found["conv"] or "str"
    converter = CONVERTERS.get(conv_name)
    if converter is None:
        raise ConfigurationError(
            f"path {path!r}: unknown parameter type {conv_name!r}; use one of {', '.join(CONVERTERS)}"
        )
    return Segment(text, found["name"], converter)
