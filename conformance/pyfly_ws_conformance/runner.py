"""Running one case on one transport: in-process (asyncio or trio) or over a real server."""

from __future__ import annotations

import importlib.util
import os
import sys
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from pyfly_ws.asgi import adapter as reference_adapter
from pyfly_ws.testing import ASGIClient, URLClient

from .context import CaseContext
from .harness import Harness, load_harness
from .recorder import RECORDER
from .registry import Case
from .served import ENV_VAR
from .servers import SERVERS, ServerCapabilities, running

__all__ = ["CASE_TIMEOUT", "IN_PROCESS", "Runner"]

IN_PROCESS = {"inprocess": "asyncio", "inprocess-trio": "trio"}
"""In-process transports and the event loop each runs on."""
CASE_TIMEOUT = 60.0
"""Seconds one case may take before it fails."""


class Runner:
    """Holds the harness and the servers of one pytest session; runs cases."""

    def __init__(self, spec: str, transports: list[str], harness: Harness | None = None) -> None:
        self.spec = spec
        self.harness = harness if harness is not None else load_harness(spec)
        self.transports = transports
        self._servers: dict[str, str] = {}
        self._stack = ExitStack()
        RECORDER.install()

    def close(self) -> None:
        """Stop every server this session started."""
        self._stack.close()

    def server_url(self, name: str) -> str:
        """The base URL of ``name`` serving the cases on this adapter, started on first use."""
        if name not in self._servers:
            env = {ENV_VAR: self.spec, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self._servers[name] = self._stack.enter_context(running(name, "pyfly_ws_conformance.served:app", env=env))
        return self._servers[name]

    def skip_reason(self, case: Case, transport: str) -> str | None:
        """Why ``case`` cannot run here: a capability the adapter or the server lacks, or a library not installed."""
        served_adapters = SERVERS[transport].adapters if transport in SERVERS else None
        if served_adapters is not None and self.harness.name not in served_adapters:
            return (
                f"server {transport!r} is pyfly-ws's native transport, not an ASGI server: it serves applications "
                f"of the {', '.join(served_adapters)} adapter only"
            )
        absent = [name for name in case.libraries if importlib.util.find_spec(name) is None]
        if absent:
            return f"needs {', '.join(absent)}, not installed here: pip install {' '.join(absent)}"
        lacking = self.harness.capabilities.lacking(*case.requires)
        if transport == "inprocess-trio":
            lacking += self.harness.capabilities.lacking("trio")
        if lacking:
            return f"adapter {self.harness.name!r} does not declare capability {', '.join(lacking)}"
        if transport in SERVERS and case.inprocess_only:
            return f"in-process only: {case.inprocess_only}"
        if transport in SERVERS:
            caps = SERVERS[transport].capabilities
            missing = [flag for flag in case.server_requires if not getattr(caps, flag)]
            if missing:
                return f"server {transport!r} lacks capability {', '.join(missing)}"
        return None

    def run(self, case: Case, transport: str) -> None:
        """Run ``case`` on ``transport``; skips with the reason when a capability is missing."""
        reason = self.skip_reason(case, transport)
        if reason:
            pytest.skip(reason)
        backend = IN_PROCESS.get(transport, "asyncio")
        server: ServerCapabilities | None = None
        if transport in IN_PROCESS:
            client: ASGIClient | URLClient = ASGIClient(self.harness.build_app())
        else:
            client = URLClient(self.server_url(transport))
            server = SERVERS[transport].capabilities
        reference = ASGIClient(Harness(reference_adapter).build_app())
        with start_blocking_portal(backend) as portal, ExitStack() as stack:
            stack.enter_context(portal.wrap_async_context_manager(client))
            stack.enter_context(portal.wrap_async_context_manager(reference))
            ctx = CaseContext(
                client, harness=self.harness, transport=transport, server=server, portal=portal, reference=reference
            )
            portal.call(ctx.start)
            if case.is_async:
                portal.call(_bounded, case, ctx)
            else:
                case.func(ctx)


async def _bounded(case: Case, ctx: CaseContext) -> Any:
    with anyio.fail_after(CASE_TIMEOUT):
        return await case.func(ctx)  # type: ignore[misc]
