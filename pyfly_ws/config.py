"""Choosing and loading an adapter by name.

The name comes from, in order: the ``adapter`` argument, the
``PYFLY_WS_ADAPTER`` environment variable, ``[tool.pyfly-ws] adapter`` in the
nearest ``pyproject.toml`` above the working directory, else ``asgi``.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from .adapter import Adapter
from .exceptions import AdapterNotFoundError, AdapterUnavailableError, ConfigurationError

__all__ = ["DEFAULT_ADAPTER", "ENTRY_POINT_GROUP", "ENV_VAR", "available_adapters", "choose_adapter", "load_adapter"]

ENTRY_POINT_GROUP = "pyfly_ws.adapters"
ENV_VAR = "PYFLY_WS_ADAPTER"
DEFAULT_ADAPTER = "asgi"

_BUILTIN = {
    "asgi": "pyfly_ws.asgi:adapter",
    "starlette": "pyfly_ws_starlette:adapter",
    "litestar": "pyfly_ws_litestar:adapter",
    "quart": "pyfly_ws_quart:adapter",
}
"""Used when pyfly-ws runs from a source tree without its entry points installed."""


def _entry_points() -> dict[str, EntryPoint]:
    found = {name: EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in _BUILTIN.items()}
    found.update({ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return found


def available_adapters() -> list[str]:
    """The names of every installed adapter, whether or not its framework is installed."""
    return sorted(_entry_points())


def choose_adapter(explicit: str | None = None, start: Path | None = None) -> tuple[str, str]:
    """The adapter name to use and where it came from (``argument``, ``environment``, a file, ``default``)."""
    if explicit:
        return explicit, "argument"
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env, f"environment variable {ENV_VAR}"
    found = _from_pyproject(start or Path.cwd())
    if found is not None:
        return found
    return DEFAULT_ADAPTER, "default"


def _from_pyproject(start: Path) -> tuple[str, str] | None:
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read {candidate}: {exc}") from exc
        name = data.get("tool", {}).get("pyfly-ws", {}).get("adapter")
        if name is None:
            return None
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"{candidate}: [tool.pyfly-ws] adapter must be a non-empty string")
        return name.strip(), str(candidate)
    return None


def load_adapter(name: str) -> Adapter:
    """The adapter installed under ``name`` (or an import path ``pkg.mod:attr``)."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        target: object = _import(name, module_name)
        for part in attr.split("."):
            try:
                target = getattr(target, part)
            except AttributeError:
                raise AdapterNotFoundError(f"adapter {name!r}: {module_name} has no attribute {attr!r}") from None
    else:
        points = _entry_points()
        point = points.get(name)
        if point is None:
            raise AdapterNotFoundError(
                f"no pyfly-ws adapter is named {name!r}; installed adapters: {', '.join(sorted(points))}"
            )
        target = _import(name, point.module)
        for part in (point.attr or "").split(".") if point.attr else ():
            target = getattr(target, part)
    if isinstance(target, type):
        target = target()
    if not isinstance(target, Adapter):
        raise AdapterNotFoundError(f"adapter {name!r} is {target!r}, which has no name and create_app()")
    return target


def _import(name: str, module_name: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if missing == module_name or module_name.startswith(f"{missing}."):
            raise AdapterNotFoundError(f"adapter {name!r}: module {module_name!r} is not installed") from exc
        extra = f'pip install "pyfly-ws[{name}]"' if name in _BUILTIN else f"install {missing!r}"
        raise AdapterUnavailableError(
            f"the {name!r} adapter needs {missing!r}, which is not installed: {extra}"
        ) from exc
