"""``draining_lifespan``: a Starlette lifespan that starts the endpoints' services and drains their sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from pyfly_ws import Endpoint, SessionRegistry
from pyfly_ws.adapter import drain_endpoints, registries, start_endpoints

__all__ = ["Lifespan", "draining_lifespan"]

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
"""What Starlette calls a lifespan: ``lifespan(app)`` gives an async context manager."""

_running: set[int] = set()
"""Registries (by id) whose lifespan runs now: a lifespan nested in another for the same registry does nothing.

That happens when a registry is mounted into a FastAPI ``APIRouter`` and into
the app that includes it: FastAPI nests the router's lifespan in the app's.
"""


def draining_lifespan(endpoints: Sequence[Endpoint] | SessionRegistry, inner: Lifespan | None = None) -> Lifespan:
    """A Starlette lifespan around ``inner``: starts the endpoints' services, drains their sessions on shutdown.

    ``endpoints`` is a list of endpoints, or the :class:`~pyfly_ws.SessionRegistry`
    that :func:`~pyfly_ws_starlette.mount` returns (then every endpoint
    discovered into it, now or later, is drained). The drain runs inside
    ``inner``, so what the application's own lifespan set up is still there
    for ``on_disconnect``. :func:`~pyfly_ws_starlette.mount` installs this by
    itself; use it in an application you build yourself:
    ``Starlette(routes=translate(endpoints), lifespan=draining_lifespan(endpoints))``.
    """
    given = endpoints

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        found = [given] if isinstance(given, SessionRegistry) else registries(given)
        owned = [registry for registry in found if id(registry) not in _running]
        live = [endpoint for registry in owned for endpoint in registry.endpoints]
        _running.update(id(registry) for registry in owned)
        try:
            await start_endpoints(live)
            if inner is None:
                try:
                    yield None
                finally:
                    await drain_endpoints(live)
                return
            async with inner(app) as state:
                try:
                    yield state
                finally:
                    await drain_endpoints(live)
        finally:
            _running.difference_update(id(registry) for registry in owned)

    return lifespan
