"""The application's name, version and description, from the nearest ``pyproject.toml`` above a folder."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ConfigurationError

__all__ = ["Project", "project_of"]


@dataclass(frozen=True, slots=True)
class Project:
    """The ``[project]`` facts the document's ``info`` falls back to (``None``: not given)."""

    name: str | None = None
    version: str | None = None
    description: str | None = None


def project_of(start: Path | None = None) -> Project:
    """The ``[project]`` table of the nearest ``pyproject.toml`` at or above ``start`` (the working directory)."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder / "pyproject.toml", *(parent / "pyproject.toml" for parent in folder.parents)):
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read {candidate}: {exc}") from exc
        table = data.get("project")
        if not isinstance(table, dict):
            return Project()
        return Project(*(_text(table.get(key)) for key in ("name", "version", "description")))
    return Project()


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
