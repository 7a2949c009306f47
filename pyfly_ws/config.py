"""Choosing and loading an adapter by name.

The name comes from, in order: the ``adapter`` argument, the
``PYFLY_WS_ADAPTER`` environment variable, ``[tool.pyfly-ws] adapter`` in the
nearest ``pyproject.toml`` above the working directory, else ``asgi``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tomllib
import traceback
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from .adapter import Adapter
from .exceptions import AdapterNotFoundError, AdapterUnavailableError, ConfigurationError

__all__ = [
    "DEFAULT_ADAPTER",
    "ENTRY_POINT_GROUP",
    "ENV_VAR",
    "available_adapters",
    "choose_adapter",
    "describe_import_error",
    "import_object",
    "load_adapter",
    "nearest_pyproject",
    "usable_adapters",
]

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
_FRAMEWORKS = {"starlette": "starlette", "litestar": "litestar", "quart": "quart"}
"""The framework module each built-in adapter needs; its extra has the adapter's name."""


def _entry_points() -> dict[str, EntryPoint]:
    found = {name: EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in _BUILTIN.items()}
    found.update({ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return found


def available_adapters() -> list[str]:
    """The names of every installed adapter, whether or not its framework is installed."""
    return sorted(_entry_points())


def usable_adapters() -> dict[str, str | None]:
    """Every installed adapter's name, and what it lacks here: ``None`` if usable, else how to install it.

    Nothing is imported: a built-in adapter is usable when its framework can be found, a
    third-party one when its module can (whether that module's own framework is there shows
    only when it is loaded).
    """
    return {name: _lacking(name, point) for name, point in sorted(_entry_points().items())}


def _lacking(name: str, point: EntryPoint) -> str | None:
    framework = _FRAMEWORKS.get(name) if point.value == _BUILTIN.get(name) else None
    if framework is not None:
        return None if _found(framework) else f'pip install "pyfly-ws[{name}]"'
    top = point.module.partition(".")[0]
    return None if _found(top) else f"module {top!r}, which is not installed"


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        return False


def _listing() -> str:
    """The installed adapters in one line, each unusable one with what it needs."""
    found = usable_adapters().items()
    return ", ".join(name if lacking is None else f"{name} (needs {lacking})" for name, lacking in found)


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


def nearest_pyproject(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (the working directory) and its contents, or ``None``.

    A file that cannot be read or parsed is a :class:`ConfigurationError` naming it.
    """
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder / "pyproject.toml", *(parent / "pyproject.toml" for parent in folder.parents)):
        if not candidate.is_file():
            continue
        try:
            return candidate, tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read {candidate}: {exc}") from exc
    return None


def _from_pyproject(start: Path) -> tuple[str, str] | None:
    found = nearest_pyproject(start)
    if found is None:
        return None
    candidate, data = found
    name = data.get("tool", {}).get("pyfly-ws", {}).get("adapter")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"{candidate}: [tool.pyfly-ws] adapter must be a non-empty string")
    return name.strip(), str(candidate)


def import_object(name: str) -> object:
    """The object an import path ``pkg.mod:attr`` names; every failure is a one-line :class:`ConfigurationError`."""
    module_name, _, attr = name.partition(":")
    target: object = _import(name, module_name)
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AdapterNotFoundError(f"adapter {name!r}: {module_name} has no attribute {attr!r}") from None
    return target


def load_adapter(name: str) -> Adapter:
    """The adapter installed under ``name`` (or an import path ``pkg.mod:attr``)."""
    if ":" in name:
        target = import_object(name)
    else:
        point = _entry_points().get(name)
        if point is None:
            raise AdapterNotFoundError(f"no pyfly-ws adapter is named {name!r}; installed adapters: {_listing()}")
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
    except ConfigurationError:
        raise  # the module's own one-line message, e.g. an adapter naming the extra its framework needs
    except Exception as exc:
        raise ConfigurationError(
            f"adapter {name!r}: importing {module_name!r} failed: {describe_import_error(exc)}"
        ) from exc


def describe_import_error(exc: BaseException) -> str:
    """``exc``, raised while importing a module, in one line that names the file and line at fault.

    A syntax error names the file that holds it; any other error, the last frame of its
    traceback outside the import machinery.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{type(exc).__name__}: {exc.msg} ({exc.filename}, line {exc.lineno})"
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not frame.filename.startswith("<frozen ")]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
