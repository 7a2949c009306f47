"""The public API, name by name and signature by signature, against the snapshot in ``public_api.json``.

Internal module paths may change freely; what users import may not. A change
here is a change of the public API: make it on purpose, then rewrite the
snapshot with ``PYFLY_WS_UPDATE_API=1 pytest tests/core/test_public_api.py``.
"""

from __future__ import annotations

import difflib
import enum
import importlib
import importlib.util
import inspect
import json
import os
import re
import typing
from pathlib import Path
from typing import Any, cast

import pytest

SNAPSHOT = Path(__file__).with_name("public_api.json")

PACKAGES = {
    "pyfly_ws": None,
    "pyfly_ws.adapter": None,
    "pyfly_ws.asyncapi": None,
    "pyfly_ws.hub": None,
    "pyfly_ws.telemetry": None,
    "pyfly_ws.testing": None,
    "pyfly_ws_conformance": None,
    "pyfly_ws_starlette": "starlette",
    "pyfly_ws_litestar": "litestar",
    "pyfly_ws_quart": "quart",
}
"""Each public package, and the framework it needs installed (its part is skipped where that is missing)."""

OURS = ("pyfly_ws", "pyfly_ws_")
"""Members that classes of these packages define are described; those inherited from Python or a framework are not."""

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_OUR_MODULE = re.compile(r"\bpyfly_ws\w*\.(?:\w+\.)*")  # module paths are not API: pyfly_ws.x.Name -> Name


def _signature(obj: Any) -> str:
    try:
        return _ADDRESS.sub("", str(inspect.signature(obj)))
    except (TypeError, ValueError):
        return "(no signature)"


def _members(cls: type) -> dict[str, Any]:
    """The public members ``cls`` defines or inherits from classes of this project, nearest first."""
    found: dict[str, Any] = {}
    for klass in cls.__mro__:
        if not klass.__module__.startswith(OURS):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and name not in found:
                found[name] = value
    return found


def _describe_member(value: Any) -> str:
    if isinstance(value, property):
        return f"property{_signature(value.fget)}" + (" settable" if value.fset is not None else "")
    if isinstance(value, classmethod):
        return f"classmethod{_signature(value.__func__)}"
    if isinstance(value, staticmethod):
        return f"staticmethod{_signature(value.__func__)}"
    if inspect.iscoroutinefunction(value) or inspect.isasyncgenfunction(value):
        return f"async def{_signature(value)}"
    if inspect.isfunction(value):
        return f"def{_signature(value)}"
    if isinstance(value, enum.Enum):
        return f"member {value.value!r}"
    return f"attribute {type(value).__qualname__}"


def _describe(name: str, obj: Any) -> list[str]:
    if isinstance(obj, type):
        kind = "enum" if issubclass(obj, enum.Enum) else "class"
        bases = ", ".join(base.__qualname__ for base in obj.__bases__)
        lines = [f"{name}: {kind}({bases}){_signature(obj) if kind == 'class' else ''}"]
        for member, value in sorted(_members(obj).items()):
            lines.append(f"{name}.{member}: {_describe_member(value)}")
        return lines
    if inspect.iscoroutinefunction(obj):
        return [f"{name}: async def{_signature(obj)}"]
    if inspect.isfunction(obj):
        return [f"{name}: def{_signature(obj)}"]
    if isinstance(obj, str | int | float | bool):
        return [f"{name}: {type(obj).__name__} {obj!r}"]
    if typing.get_origin(obj) is not None:
        return [f"{name}: alias {_OUR_MODULE.sub('', repr(obj))}"]
    return [f"{name}: instance of {type(obj).__qualname__}"]


def describe_package(package: str) -> list[str]:
    """One line per public name of ``package`` (its ``__all__``) and per public member of its classes."""
    module = importlib.import_module(package)
    names = list(module.__all__)
    lines = [f"__all__: {', '.join(names)}"]
    for name in sorted(names):
        lines.extend(_describe(name, getattr(module, name)))
    return lines


class _Options:
    """Records what a pytest plugin adds to the command line and the ini file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def getgroup(self, name: str) -> _Options:
        self.lines.append(f"group {name!r}")
        return self

    def addoption(self, *names: str, **settings: Any) -> None:
        self.lines.append(f"option {', '.join(names)} {sorted(settings.items())!r}")

    def addini(self, name: str, help: str, type: str | None = None, default: Any = None) -> None:
        self.lines.append(f"ini {name} type={type!r} default={default!r}: {help}")


def describe_plugin() -> list[str]:
    """The conformance kit's command-line and ini options."""
    from pyfly_ws_conformance import plugin

    options = _Options()
    plugin.pytest_addoption(cast(pytest.Parser, options))
    return options.lines


def _present(framework: str | None) -> bool:
    return framework is None or importlib.util.find_spec(framework) is not None


def _stored() -> dict[str, list[str]]:
    return cast(dict[str, list[str]], json.loads(SNAPSHOT.read_text(encoding="utf-8")))


PARTS = [*PACKAGES, "pyfly_ws_conformance.plugin options"]


@pytest.mark.parametrize("part", PARTS)
def test_public_api_is_the_snapshot(part: str) -> None:
    needs = PACKAGES.get(part)
    if not _present(needs):
        pytest.skip(f"{part} needs {needs}, which is not installed here")
    got = describe_plugin() if part not in PACKAGES else describe_package(part)
    if os.environ.get("PYFLY_WS_UPDATE_API"):
        stored = _stored() if SNAPSHOT.exists() else {}
        stored[part] = got
        SNAPSHOT.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = _stored()[part]
    if got != expected:
        diff = "\n".join(difflib.unified_diff(expected, got, "public_api.json", "the code", lineterm=""))
        pytest.fail(f"the public API of {part} changed:\n{diff}", pytrace=False)


def test_the_snapshot_has_every_part() -> None:
    assert sorted(_stored()) == sorted(PARTS)
