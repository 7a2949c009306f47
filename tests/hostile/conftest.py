"""The hostile tests' server: ``tests.hostile.app`` under uvicorn, on the adapter of the test."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfly_ws_conformance.servers import running

SERVER = "uvicorn-sansio"
TARGET = "tests.hostile.app:app"
ROOT = str(Path(__file__).resolve().parents[2])
FILES_NEEDED = 4096
"""Open files the client process and the server each need: 1,000 sessions, 500 room members, churn in flight."""


def _raise_open_files() -> int:
    """Raise the soft limit of open files to the hard one if it is below ``FILES_NEEDED``; the server inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < FILES_NEEDED:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft


@pytest.fixture
def served(adapter_name: str) -> Iterator[str]:
    """``ws://127.0.0.1:PORT`` of a fresh server running ``tests.hostile.app`` on ``adapter_name``."""
    soft = _raise_open_files()
    if soft != resource.RLIM_INFINITY and soft < FILES_NEEDED:
        pytest.fail(f"these tests need {FILES_NEEDED} open files; the hard limit (ulimit -Hn) allows {soft}")
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_ADAPTER": adapter_name,
    }
    with running(SERVER, TARGET, env=env) as url:
        yield url
