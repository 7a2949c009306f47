"""Shared fixtures: the anyio backend, and the adapters integration tests run on."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

ADAPTERS = ("asgi", "starlette", "litestar", "quart")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--adapter",
        action="append",
        choices=ADAPTERS,
        help="run the integration tests on this adapter (repeatable; default: all four)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "adapter_name" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("adapter") or list(ADAPTERS)
        metafunc.parametrize("adapter_name", chosen)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
