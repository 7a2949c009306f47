"""``QuartAdapter``: the ``quart`` entry point, building a complete Quart application."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from quart import Quart

from pyfly_ws import Capabilities, Endpoint, discover
from pyfly_ws.adapter import Page

from .blueprint import endpoints_blueprint
from .pages import add_pages
from .unserved import install_unserved_answers

__all__ = ["QuartAdapter", "adapter", "create_app"]


class QuartAdapter:
    """Serves endpoints from a new :class:`quart.Quart` application.

    Options: ``import_name`` (default ``"pyfly_ws"``), ``url_prefix`` and
    ``blueprint_name`` for the blueprint holding the routes, ``config`` (a
    mapping merged into ``app.config``). Any other option goes to
    ``Quart(...)`` (``static_folder``, ``root_path``, ...). It defaults
    ``static_folder`` to ``None``, since a WebSocket application serves no
    static files. An unknown option raises ``TypeError`` naming it.

    Like every pyfly-ws application, it refuses a WebSocket handshake to an
    unknown path with 403 and answers plain HTTP to an endpoint with 426.
    """

    name = "quart"
    capabilities = Capabilities(
        subprotocols=True, accept_headers=True, close_reasons=True, peer_close_codes=True, pages=True, trio=False
    )
    """What the conformance suite may expect of this adapter beyond the core contract."""

    def create_app(
        self,
        endpoints: Sequence[Endpoint],
        *,
        import_name: str = "pyfly_ws",
        url_prefix: str | None = None,
        blueprint_name: str = "pyfly_ws",
        config: Mapping[str, Any] | None = None,
        pages: Sequence[Page] = (),
        **options: Any,
    ) -> Quart:
        """A Quart application serving ``endpoints``, and ``pages`` (:class:`~pyfly_ws.adapter.Page`) at their paths."""
        options.setdefault("static_folder", None)
        app = Quart(import_name, **options)
        if config:
            app.config.update(config)
        install_unserved_answers(app)
        add_pages(app, endpoints, pages)
        app.register_blueprint(endpoints_blueprint(endpoints, name=blueprint_name, url_prefix=url_prefix))
        return app


adapter = QuartAdapter()
"""The instance the ``quart`` entry point names."""


def create_app(source: object, **options: Any) -> Quart:
    """A Quart application serving every endpoint in ``source``; ``options`` as for :class:`QuartAdapter`."""
    return adapter.create_app(discover(source), **options)
