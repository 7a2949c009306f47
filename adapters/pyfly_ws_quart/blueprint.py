"""Mounting endpoints into a Quart application: a blueprint, or ``register(app)``."""

from __future__ import annotations

from collections.abc import Sequence

from quart import Blueprint, Quart
from quart.blueprints import BlueprintSetupState

from pyfly_ws import Endpoint, discover
from pyfly_ws.adapter import drain_endpoints, start_endpoints

from .recorder import install_recorder
from .view import make_view

__all__ = ["blueprint", "endpoints_blueprint", "register", "rule_for"]


def rule_for(endpoint: Endpoint) -> str:
    """The werkzeug rule for ``endpoint``: every parameter captured as a string, checked by the core."""
    return endpoint.template.render(lambda name, is_path: f"<path:{name}>" if is_path else f"<{name}>")


def endpoints_blueprint(
    endpoints: Sequence[Endpoint], name: str = "pyfly_ws", url_prefix: str | None = None
) -> Blueprint:
    """A blueprint with one websocket route per endpoint, in the given order.

    Each view is named after its method (``Controller_method``), so
    ``url_for("pyfly_ws.EchoController_echo")`` works. Rules never redirect:
    slashes are not merged, and only the root rule (``/``, which a
    ``url_prefix`` turns into ``/prefix/``) also matches without its
    trailing slash. A path of the wrong type is refused by the core (403).
    """
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    taken: set[str] = set()
    for endpoint in endpoints:
        view_name = base = endpoint.qualname.replace(".", "_").replace("<", "").replace(">", "")
        counter = 2
        while view_name in taken:
            view_name, counter = f"{base}_{counter}", counter + 1
        taken.add(view_name)
        rule = rule_for(endpoint)
        bp.add_websocket(
            rule,
            view_name,
            make_view(endpoint, view_name),
            strict_slashes=rule != "/",
            merge_slashes=False,
        )
    bp.record_once(_install_recorder)
    endpoints = tuple(endpoints)

    @bp.before_app_serving
    async def start_services() -> None:
        await start_endpoints(endpoints)

    @bp.after_app_serving
    async def drain_sessions() -> None:
        await drain_endpoints(endpoints)

    return bp


def _install_recorder(state: BlueprintSetupState) -> None:
    if isinstance(state.app, Quart):
        install_recorder(state.app)


def blueprint(source: object, name: str = "pyfly_ws", url_prefix: str | None = None) -> Blueprint:
    """A Quart blueprint serving every WebSocket endpoint in ``source``.

    ``source`` is anything :func:`pyfly_ws.discover` accepts: a
    :class:`~pyfly_ws.Container`, controller classes, modules or module names.
    Register it with ``app.register_blueprint(bp)``. Registering it also lets
    the application report a client's close code to handlers.
    """
    return endpoints_blueprint(discover(source), name=name, url_prefix=url_prefix)


def register(app: Quart, source: object, *, name: str = "pyfly_ws", url_prefix: str | None = None) -> None:
    """Serve every WebSocket endpoint in ``source`` from ``app``, an application you already have."""
    app.register_blueprint(blueprint(source, name=name, url_prefix=url_prefix))
