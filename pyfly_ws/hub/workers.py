"""How many worker processes serve the application, as far as the server's command line and environment tell."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence

__all__ = ["worker_processes"]

_FLAGS = {
    "uvicorn": ("--workers",),
    "gunicorn": ("--workers", "-w"),
    "hypercorn": ("--workers", "-w"),
    "granian": ("--workers",),
}
"""The servers that run several workers, and the options that set how many."""
_ENVIRONMENT = {"uvicorn": "WEB_CONCURRENCY", "gunicorn": "WEB_CONCURRENCY", "granian": "GRANIAN_WORKERS"}
"""The variable a server reads when its command line sets no worker count."""


def worker_processes(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The number of workers the server runs, or 1 where its command line and environment do not say.

    A worker is started with the server's command line (``uvicorn app:app
    --workers 4``, ``gunicorn -w 4 ...``, ``hypercorn -w 4``, ``granian
    --workers 4``; multiprocessing gives each worker its parent's ``sys.argv``),
    so a worker can read it. A server run from Python code with its own
    settings cannot be told apart from one worker.
    """
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if not argv:
        return 1
    program = [part for part in re.split(r"[\\/]", argv[0].lower()) if part]
    # ".../bin/uvicorn", or ".../uvicorn/__main__.py" under `python -m uvicorn`
    server = next((name for name in reversed(program) if name in _FLAGS), None)
    if server is None:
        return 1
    found = _from_options(argv[1:], _FLAGS[server])
    if found is None and server in _ENVIRONMENT:
        found = _number(environ.get(_ENVIRONMENT[server], ""))
    return found if found is not None and found > 0 else 1


def _from_options(args: Sequence[str], flags: tuple[str, ...]) -> int | None:
    found: int | None = None
    for index, arg in enumerate(args):
        for flag in flags:
            if arg == flag and index + 1 < len(args):
                found = _number(args[index + 1])
            elif flag.startswith("--") and arg.startswith(f"{flag}="):
                found = _number(arg.partition("=")[2])
            elif not flag.startswith("--") and arg.startswith(flag) and len(arg) > len(flag):
                found = _number(arg[len(flag) :].removeprefix("="))  # -w4
    return found


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None
