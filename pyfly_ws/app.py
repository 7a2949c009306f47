"""``create_app``: controllers in, a complete ASGI application out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .adapter import Adapter
from .asyncapi.attached import attach_document
from .asyncapi.document import asyncapi_document
from .asyncapi.options import AsyncAPI
from .asyncapi.pages import asyncapi_pages
from .config import choose_adapter, load_adapter
from .discovery.discover import discover
from .discovery.pages import attach_pages, pages_beside
from .exceptions import ConfigurationError
from .hub.hub import Hub
from .lifecycle.apps import attach_registry
from .lifecycle.registry import Service, SessionRegistry
from .mapping.auth import Authenticator
from .mapping.guards import Guard
from .mapping.limits import Limits
from .session.figures import Figures
from .telemetry.metrics import start_metrics
from .telemetry.options import Prometheus, Telemetry
from .telemetry.prometheus import prometheus_page
from .telemetry.readings import Readings
from .telemetry.traces import Tracing

__all__ = ["create_app"]


def create_app(
    source: object,
    adapter: str | Adapter | None = None,
    *,
    guards: Iterable[Guard] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    authenticator: Authenticator | None = None,
    registry: SessionRegistry | None = None,
    services: Iterable[Service] = (),
    asyncapi: str | AsyncAPI | None = None,
    telemetry: Telemetry | None = None,
    metrics: str | Prometheus | None = None,
    **options: Any,
) -> Any:
    """Build an ASGI application serving every WebSocket endpoint in ``source``.

    ``source`` is a :class:`Container`, an object with ``controllers()`` and
    ``resolve(cls)``, a controller class, a module or module name, or a list of
    these. ``adapter`` is an adapter name or object; without one, the
    ``PYFLY_WS_ADAPTER`` environment variable, then ``[tool.pyfly-ws] adapter``
    in ``pyproject.toml``, then the framework-free ``asgi`` adapter is used.
    ``guards``, ``allowed_origins``, ``limits`` and ``authenticator`` apply to
    every endpoint (see :mod:`pyfly_ws.mapping.guards`, :class:`~pyfly_ws.Limits`
    and :mod:`pyfly_ws.auth`); ``registry`` is the
    :class:`~pyfly_ws.SessionRegistry` to count and drain sessions with (the
    application drains it on lifespan shutdown); ``services`` (a
    :class:`~pyfly_ws.hub.Hub`, say) start with the application and stop after
    the drain. Other ``options`` go to the adapter's application.

    ``asyncapi`` (off by default) serves the endpoints' AsyncAPI 3.0.0
    document: a path (``"/asyncapi"``) or an :class:`~pyfly_ws.asyncapi.AsyncAPI`
    (path, title, servers, guards...). The document is built here, once; the
    application then answers ``GET path`` with an HTML page that reads it
    (self-contained: it loads nothing from the internet), ``path + ".json"``
    and ``path + ".yaml"`` (the latter needs PyYAML: ``pip install
    "pyfly-ws[yaml]"``; without it, a 404 saying so), behind the options'
    guards. The adapter must declare the ``pages`` capability.

    ``telemetry`` (off by default) reports the application to OpenTelemetry:
    a :class:`~pyfly_ws.telemetry.Telemetry`, with the meter and tracer
    providers to use (the global ones by default); it needs the ``otel``
    extra. Its metrics are the figures of the README's instrument table; its
    traces give every handshake a span, and every message one if
    ``message_spans`` asks, and the hubs among ``services`` then carry the
    trace context in their publications (see :mod:`pyfly_ws.telemetry.traces`).
    ``metrics`` (off by default) serves the figures in the Prometheus text
    format at a path (``"/metrics"``) or a
    :class:`~pyfly_ws.telemetry.Prometheus` (path, guards); it needs the
    ``prometheus`` extra. Either one makes the sessions count their messages.
    """
    chosen = adapter if isinstance(adapter, Adapter) else load_adapter(choose_adapter(adapter)[0])
    registry = SessionRegistry() if registry is None else registry
    for service in services:
        registry.add_service(service)
    reporting = telemetry if telemetry is not None and telemetry.enabled else None
    if reporting is not None:
        tracing = Tracing(reporting.tracer_provider, message_spans=reporting.message_spans)
        registry.tracer = tracing
        for service in registry.services:
            if isinstance(service, Hub) and service.tracer is None:
                service.tracer = tracing
    endpoints = discover(
        source,
        guards=guards,
        allowed_origins=allowed_origins,
        limits=limits,
        authenticator=authenticator,
        registry=registry,
    )
    pages = list(options.pop("pages", None) or ())
    if reporting is not None or metrics is not None:
        readings = Readings(registry, registry.figures or Figures())
        if reporting is not None:
            start_metrics(readings, reporting.meter_provider)
        if metrics is not None:
            pages.append(prometheus_page(readings, metrics if isinstance(metrics, Prometheus) else Prometheus(metrics)))
        registry.figures = readings.figures  # from now on the sessions count
    if (pages or asyncapi is not None) and not getattr(getattr(chosen, "capabilities", None), "pages", False):
        asked = "asyncapi=" if asyncapi is not None else "metrics=" if metrics is not None else "pages="
        raise ConfigurationError(
            f"{asked} needs an adapter that serves pages: the {chosen.name!r} adapter's capabilities lack 'pages'"
        )
    document: dict[str, Any] | None = None
    if asyncapi is not None:
        described = asyncapi if isinstance(asyncapi, AsyncAPI) else AsyncAPI(path=asyncapi)
        document = asyncapi_document(endpoints, described)
        pages += asyncapi_pages(document, described)
    if pages:
        options["pages"] = pages = list(pages_beside(endpoints, pages).values())
    app = chosen.create_app(endpoints, **options)
    attach_registry(app, registry)  # for pyfly_ws.registry_of(app), and `pyfly-ws run`'s drain
    if document is not None:
        attach_document(app, document)  # for pyfly_ws.asyncapi.attached.document_of(app), and the command line
    if pages:  # printed by `pyfly-ws run`: the pages that answer (not a 404 naming a missing extra)
        attach_pages(app, [page.path for page in pages if page.content.status < 400])
    return app
