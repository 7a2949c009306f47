"""No underscore name is used outside the folder that defines it.

A folder is one subpackage (or top-level module) of ``pyfly_ws``, one adapter package under
``adapters/``, the conformance kit, or the Falcon example. A private name (``_x``, not a dunder)
is defined in a folder by a ``def``/``class``, a module-level assignment, a ``self.X``/``cls.X``
store, a ``__slots__`` string, or an assignment in a class body (a Protocol's members). It is used
by ``something._x`` (``self._x`` included: a subclass in another folder may not use its base
class's privates), ``getattr(something, "_x")`` and its kin, or ``from module import _x``. The
names are matched, not the objects: a name defined in two folders may be used in either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPLIT = ("pyfly_ws",)
"""Packages whose every subpackage and top-level module is a folder of its own."""
WHOLE = ("adapters/*", "conformance/pyfly_ws_conformance", "examples/falcon_adapter")
"""Directories (globs) each of which is one folder."""
ATTRIBUTE_CALLS = frozenset({"getattr", "setattr", "hasattr", "delattr"})


@dataclass(frozen=True)
class Use:
    path: str
    line: int
    name: str
    defined_in: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name} (defined in folders {', '.join(self.defined_in)})"


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


def folders(root: Path) -> dict[Path, str]:
    """Every Python file scanned under ``root``, and the folder it belongs to (as a path from ``root``)."""
    found: dict[Path, str] = {}
    for package in SPLIT:
        for path in sorted((root / package).rglob("*.py")):
            first = path.relative_to(root / package).parts[0]
            found[path] = f"{package}/{first}"
    for pattern in WHOLE:
        for directory in sorted(d for d in root.glob(pattern) if d.is_dir()):
            for path in sorted(directory.rglob("*.py")):
                found[path] = directory.relative_to(root).as_posix()
    return found


def _targets(node: ast.expr) -> Iterator[str]:
    """The plain names an assignment target binds (``a``, ``a, b``, ``[a, *b]``)."""
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _targets(element)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)


def _bound_in_body(body: list[ast.stmt]) -> Iterator[str]:
    """Names a module or class body assigns, looking into ``if``/``try``/``with`` but not into functions."""
    for statement in body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                yield from _targets(target)
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            yield from _targets(statement.target)
        elif isinstance(statement, ast.If | ast.For | ast.While | ast.With | ast.AsyncWith):
            yield from _bound_in_body([*statement.body, *getattr(statement, "orelse", [])])
        elif isinstance(statement, ast.Try | ast.TryStar):
            handlers = [s for handler in statement.handlers for s in handler.body]
            yield from _bound_in_body([*statement.body, *handlers, *statement.orelse, *statement.finalbody])


def defined_names(tree: ast.Module) -> set[str]:
    """The private names ``tree`` defines."""
    names = set(_bound_in_body(tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(_bound_in_body(node.body))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _is_self(node.value):
            names.add(node.attr)
        elif isinstance(node, ast.Assign) and any(_targets_slots(target) for target in node.targets):
            names.update(
                c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            )
    return {name for name in names if is_private(name)}


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _targets_slots(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "__slots__"


def used_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, name)`` of every private name ``tree`` reaches into something else for."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            yield node.lineno, node.attr  # self._x too: a subclass in another folder may not use its base's privates
        elif isinstance(node, ast.ImportFrom):
            yield from ((node.lineno, alias.name) for alias in node.names if is_private(alias.name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_CALLS
            and len(node.args) >= 2
            and not _is_self(node.args[0])
            and isinstance(name := node.args[1], ast.Constant)
            and isinstance(name.value, str)
            and is_private(name.value)
        ):
            yield node.lineno, name.value


def cross_folder_uses(root: Path) -> list[Use]:
    """Every use, in the files under ``root``, of a private name that only other folders define."""
    trees = {
        path: (folder, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path, folder in folders(root).items()
    }
    defined: dict[str, set[str]] = {}
    for folder, tree in trees.values():
        for name in defined_names(tree):
            defined.setdefault(name, set()).add(folder)
    uses = [
        Use(path.relative_to(root).as_posix(), line, name, tuple(sorted(defined[name])))
        for path, (folder, tree) in trees.items()
        for line, name in used_names(tree)
        if name in defined and folder not in defined[name]
    ]
    return sorted(uses, key=lambda use: (use.path, use.line, use.name))


def test_no_private_name_is_used_outside_its_folder() -> None:
    uses = cross_folder_uses(REPO)
    if uses:
        pytest.fail(f"{len(uses)} uses of another folder's private names:\n" + "\n".join(map(str, uses)), pytrace=False)


def test_the_scan_covers_every_folder() -> None:
    """A layout change that silently empties the scan would make the check above pass vacuously."""
    found = set(folders(REPO).values())
    expected = {"pyfly_ws/session", "pyfly_ws/lifecycle", "pyfly_ws/asgi", "pyfly_ws/tasks.py"}
    expected |= {"adapters/pyfly_ws_starlette", "adapters/pyfly_ws_litestar", "adapters/pyfly_ws_quart"}
    expected |= {"conformance/pyfly_ws_conformance", "examples/falcon_adapter"}
    assert expected <= found, sorted(expected - found)


def test_the_check_reports_a_folder_reading_another_ones_private_names(tmp_path: Path) -> None:
    def write(relative: str, text: str) -> None:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")

    write("pyfly_ws/a/__init__.py", "")
    write(
        "pyfly_ws/a/thing.py",
        "_LIMIT = 3\n"
        "class Thing:\n"
        "    __slots__ = ('_slot',)\n"
        "    _level: int\n"
        "    def __init__(self) -> None:\n"
        "        self._count = 0\n"
        "    def _step(self) -> None:\n"
        "        self._count += 1\n"
        "def tick(t: Thing) -> int:\n"
        "    t._step()\n"  # the same folder: allowed
        "    return t._count\n",
    )
    write("pyfly_ws/b.py", "from .a.thing import _LIMIT, Thing\ndef peek(t: Thing) -> object:\n    return t._count\n")
    write("adapters/pyfly_ws_x/__init__.py", "def level(t: object) -> object:\n    return getattr(t, '_level')\n")
    write(
        "adapters/pyfly_ws_x/slots.py",
        "def slot(t: object, other: object) -> object:\n    return t._slot, other._own\n",
    )
    write(
        "adapters/pyfly_ws_x/sub.py",
        "from pyfly_ws.a.thing import Thing\nclass Sub(Thing):\n    def go(self) -> None:\n        self._step()\n",
    )
    uses = [str(use) for use in cross_folder_uses(tmp_path)]
    assert uses == [
        "adapters/pyfly_ws_x/__init__.py:2: _level (defined in folders pyfly_ws/a)",
        "adapters/pyfly_ws_x/slots.py:2: _slot (defined in folders pyfly_ws/a)",
        "adapters/pyfly_ws_x/sub.py:4: _step (defined in folders pyfly_ws/a)",
        "pyfly_ws/b.py:1: _LIMIT (defined in folders pyfly_ws/a)",
        "pyfly_ws/b.py:3: _count (defined in folders pyfly_ws/a)",
    ]
