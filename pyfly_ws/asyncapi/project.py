"""The application's name, version and description, from the nearest ``pyproject.toml`` above a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import nearest_pyproject

__all__ = ["Project", "project_of"]


@dataclass(frozen=True, slots=True)
class Project:
    """The ``[project]`` facts the document's ``info`` falls back to (``None``: not given)."""

    name: str | None = None
    version: str | None = None
    description: str | None = None


def project_of(start: Path | None = None) -> Project:
    """The ``[project]`` table of the nearest ``pyproject.toml`` at or above ``start`` (the working directory)."""
    found = nearest_pyproject(start)
    table = None if found is None else found[1].get("project")
    if not isinstance(table, dict):
        return Project()
    return Project(*(_text(table.get(key)) for key in ("name", "version", "description")))


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
