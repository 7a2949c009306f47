"""Every check has a session: `nox -l` lists them, plain `nox` runs them all."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
ADAPTERS = {"starlette": "fastapi", "litestar": "litestar", "quart": "quart"}
"""Adapter name -> the extra its session installs (FastAPI brings Starlette and tests both)."""
LOWEST = {
    "starlette": ["starlette==0.40.0", "fastapi==0.115.3"],
    "litestar": ["litestar==2.12.1"],
    "quart": ["quart==0.20.0"],
}
"""The lower bounds pyproject.toml declares, installed exactly to prove they work."""


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import contract that keeps frameworks out of the core."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def types(session: nox.Session) -> None:
    """mypy --strict over the core, the adapters, the examples and the tests."""
    session.install("-e", ".[dev]")
    session.run("mypy")
    session.run("mypy", "--strict", "examples", "tests")


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """The core alone: no web framework installed, the asgi adapter behind uvicorn."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-c",
        "import importlib.util as u; found = [n for n in ('starlette', 'litestar', 'quart', 'fastapi') "
        "if u.find_spec(n)]; assert not found, f'frameworks present in the core-only session: {found}'; "
        "print('core-only environment: no web framework installed')",
    )
    session.run(
        "pytest",
        "tests/core",
        "tests/adapters/test_asgi.py",
        "tests/integration",
        "--adapter",
        "asgi",
        *session.posargs,
    )


@nox.session(python=PYTHON)
@nox.parametrize("adapter", list(ADAPTERS))
def adapter(session: nox.Session, adapter: str) -> None:
    """One adapter: its own integration surface, then every example and the contract on it."""
    session.install("-e", f".[{ADAPTERS[adapter]},test]")
    session.run(
        "pytest", f"tests/adapters/test_{adapter}.py", "tests/integration", "--adapter", adapter, *session.posargs
    )


@nox.session(python=PYTHON)
@nox.parametrize("adapter", list(ADAPTERS))
def lowest(session: nox.Session, adapter: str) -> None:
    """One adapter on the oldest framework release pyproject.toml allows."""
    session.install("-e", ".[test]", *LOWEST[adapter], "anyio==4.4.0")
    session.run(
        "pytest", f"tests/adapters/test_{adapter}.py", "tests/integration", "--adapter", adapter, *session.posargs
    )


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Serve the chat example on 127.0.0.1:8000."""
    session.install("-e", ".[uvicorn]")
    session.run("pyfly-ws", "run", "examples.chat", *session.posargs)
