"""The ``pyfly-ws`` command: serve a module's controllers, list their routes, or write their AsyncAPI document."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, NoReturn

from .adapter import Adapter
from .app import create_app
from .asyncapi.attached import document_of
from .asyncapi.document import asyncapi_document
from .asyncapi.serialize import document_json, document_yaml
from .config import ENV_VAR, available_adapters, choose_adapter, describe_import_error, load_adapter
from .discovery.container import ResolutionError
from .discovery.discover import discover
from .discovery.pages import pages_of
from .exceptions import ConfigurationError
from .lifecycle.apps import registry_of
from .lifecycle.registry import Endpoint
from .mapping.paths import PathTemplate
from .servers.logs import LOG_LEVELS, configure_logging
from .servers.run import SERVERS, check_server, listen, run_server

__all__ = ["NATIVE", "CommandError", "main"]

NATIVE = "picows"
"""The server name of the native transport (:mod:`pyfly_ws.native`): no ASGI server, endpoints and pages only."""


class CommandError(Exception):
    """A problem the command reports in one line, without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pyfly-ws``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.command(args))
    except CommandError as exc:
        print(f"pyfly-ws: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"pyfly-ws: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake on the command line told in one line (and where to read more), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pyfly-ws", description="Serve controller-based WebSocket endpoints.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve the controllers of a module (or the app it names)")
    run.add_argument("target", metavar="MODULE[:ATTR]", help="e.g. examples.chat, or myapp.main:app")
    run.add_argument("--adapter", help="asgi, starlette, litestar, quart, or an installed third-party name")
    run.add_argument(
        "--server",
        choices=sorted([*SERVERS, NATIVE]),
        default="uvicorn",
        help="an ASGI server, or picows for the native transport (default: uvicorn)",
    )
    run.add_argument(
        "--workers", type=_workers, default=1, help="processes sharing the port, with --server picows (default: 1)"
    )
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    run.add_argument("--port", type=_port, default=8000, help="port to bind, 0 for any free one (default: 8000)")
    run.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="pyfly-ws's and the server's (default: info)"
    )
    run.set_defaults(command=_run)

    routes = commands.add_parser("routes", help="list every WebSocket endpoint of a module")
    routes.add_argument("target", metavar="MODULE[:ATTR]")
    routes.add_argument("--adapter", help="the adapter to report (default: as create_app would choose)")
    routes.set_defaults(command=_routes)

    spec = commands.add_parser("asyncapi", help="write the AsyncAPI 3.0.0 document of a module's endpoints")
    spec.add_argument("target", metavar="MODULE[:ATTR]", help="e.g. examples.chat, or myapp.main:app")
    spec.add_argument(
        "--format", choices=["json", "yaml"], help="json or yaml (default: from --output's suffix, else json)"
    )
    spec.add_argument("--output", metavar="FILE", help="write the document there (default: standard output)")
    spec.set_defaults(command=_asyncapi)

    suite = commands.add_parser("conformance", help="run the conformance suite on an adapter and print its matrix")
    suite.add_argument("adapter", metavar="ADAPTER", help="an installed adapter name, or pkg.mod:attr")
    suite.add_argument(
        "--server",
        action="append",
        metavar="NAME",
        help="inprocess, inprocess-trio, uvicorn-sansio, uvicorn-websockets, uvicorn-wsproto, hypercorn, granian, "
        "daphne, or all (repeatable; default: inprocess and uvicorn-sansio)",
    )
    suite.add_argument("--report", metavar="PATH", help="also write the results as JSON")
    suite.set_defaults(command=_conformance)
    return parser


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: choose one from 0 to 65535 (0: any free port)")
    return port


def _workers(text: str) -> int:
    count = int(text) if text.isdigit() else 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers: choose 1 or more")
    return count


def _run(args: argparse.Namespace) -> int:
    native = args.server == NATIVE
    if native:
        import pyfly_ws.native  # noqa: F401  # before anything is imported, started or announced: a missing extra
    else:
        check_server(args.server)
        if args.workers != 1:
            raise CommandError(f"--workers is for --server {NATIVE}; run several {args.server} processes yourself")
    configure_logging(args.log_level)  # before the module is imported: whatever it sets up for logging stays
    if args.adapter:  # also for a module that builds its own application with create_app()
        os.environ[ENV_VAR] = args.adapter
    target, name = load_target(args.target)
    if not _is_app(target) and _is_app(getattr(target, "app", None)):
        target, name = target.app, f"{name}:app"  # a module that defines its application: serve that
    if _is_app(target):
        rows = _served_by(target)  # the paths it serves, a mount's or a router's prefix included
        app, endpoints, adapter_text = target, [endpoint for _, endpoint, _ in rows], "its own"
        paths = [path for path, _, _ in rows]
    else:
        endpoints = discover(target)
        adapter = _adapter(args.adapter)
        app = create_app(target, adapter)
        adapter_text = adapter.name
        paths = [endpoint.path for endpoint in endpoints]
    if not endpoints and not _is_app(target):
        raise CommandError(f"{name} has no WebSocket endpoints (no @websocket_mapping on a controller class)")
    if native:
        from .native import native_app

        native_app(app)  # an application it cannot serve whole is refused before the port is taken
    sock = listen(args.host, args.port, reuse_port=args.workers > 1)  # a taken port fails here, before the startup
    base = f"{args.host}:{sock.getsockname()[1]}"
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    server = f"{NATIVE} (native transport, {workers})" if native else args.server
    print(f"pyfly-ws: serving {name} ({adapter_text} adapter) on {server} at http://{base}", flush=True)
    for page in _served_pages(app):  # the AsyncAPI page and documents among them (create_app(..., asyncapi=...))
        print(f"  http://{base}{page}    (open in a browser)", flush=True)
    for path, endpoint in zip(paths, endpoints, strict=True):
        print(f"  ws://{base}{path}    {endpoint.qualname}", flush=True)
    print("  (press Ctrl+C to stop)", flush=True)
    if native:
        from .native import serve

        serve(app, sock=sock, workers=args.workers, log_level=None)
    else:
        run_server(
            args.server,
            app,
            args.host,
            args.port,
            endpoints=endpoints,
            sock=sock,
            log_level=args.log_level,
            configure_logs=False,
        )
    return 0


def _routes(args: argparse.Namespace) -> int:
    target, name = load_target(args.target)
    unbuildable = ""
    if not _is_app(target) and _is_app(getattr(target, "app", None)):
        target, name = target.app, f"{name}:app"  # a module that defines its application: report that, as run serves it
    if _is_app(target):
        rows = _served_by(target)
        adapter_text = f"{_adapter_serving(target, [served for _, _, served in rows]) or 'unknown'} ({name})"
    else:
        adapter_name, origin = choose_adapter(args.adapter)
        load_adapter(adapter_name)
        try:
            endpoints = discover(target)
        except ResolutionError as exc:  # still listed: this shows what is mapped, and says what `run` would refuse
            endpoints, unbuildable = discover(target, check=False), str(exc)
        rows = [(e.path, e, None) for e in endpoints]
        adapter_text = f"{adapter_name} ({origin})"
    width = max([len("PATH"), *(len(path) for path, _, _ in rows)])
    method_width = max([len("CONTROLLER.METHOD"), *(len(e.qualname) for _, e, _ in rows)])
    print(f"{'PATH':<{width}}  {'CONTROLLER.METHOD':<{method_width}}  ADAPTER")
    for path, endpoint, _ in rows:
        print(f"{path:<{width}}  {endpoint.qualname:<{method_width}}  {adapter_text}")
    if not rows:
        print(f"(no WebSocket endpoints in {name})")
    if unbuildable:
        print(f"pyfly-ws: {unbuildable}", file=sys.stderr)
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    target, name = load_target(args.target)
    if not _is_app(target) and _is_app(getattr(target, "app", None)):
        target, name = target.app, f"{name}:app"  # a module that defines its application: describe that
    if _is_app(target):
        document = document_of(target) or document_of(_unwrapped(target))
        if document is None:
            endpoints = [_served_at(path, endpoint) for path, endpoint, _ in _served_by(target)]
            if not endpoints:
                raise CommandError(f"{name} serves no pyfly-ws endpoints")
            document = asyncapi_document(endpoints)
    else:
        endpoints = discover(target, check=False)  # described, not served: the controllers need not be buildable
        if not endpoints:
            raise CommandError(f"{name} has no WebSocket endpoints (no @websocket_mapping on a controller class)")
        document = asyncapi_document(endpoints)
    suffix = os.path.splitext(args.output or "")[1].lower()
    chosen = args.format or ("yaml" if suffix in (".yaml", ".yml") else "json")
    text = document_yaml(document) if chosen == "yaml" else document_json(document)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    counts = f"{_count(document.get('channels'), 'channel')}, {_count(document.get('operations'), 'operation')}"
    print(f"pyfly-ws: wrote the AsyncAPI document of {name} to {args.output} ({counts})")
    return 0


def _served_at(path: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` as served at ``path`` (a mount's prefix before its own path)."""
    if path == endpoint.path:
        return endpoint
    return dataclasses.replace(endpoint, path=path, template=PathTemplate(path))


_FRAMEWORK_ADAPTERS = {"starlette": "starlette", "fastapi": "starlette", "litestar": "litestar", "quart": "quart"}
"""The adapter that serves an application of each framework (by the top-level package of its class)."""


def _served_pages(app: object) -> list[str]:
    """The paths of the pages ``app`` serves, and those of the applications it wraps (``__wrapped__``)."""
    found: list[str] = []
    for _ in range(16):
        found += [path for path in pages_of(app) if path not in found]
        inner = getattr(app, "__wrapped__", None)
        if inner is None:
            break
        app = inner
    return found


def _unwrapped(app: object) -> object:
    """The application under wrappers that name it in ``__wrapped__`` (as ``functools.wraps`` does)."""
    for _ in range(16):
        inner = getattr(app, "__wrapped__", None)
        if inner is None:
            break
        app = inner
    return app


def _served_by(app: object) -> list[tuple[str, Endpoint, type | None]]:
    """``(path served, endpoint, class of its route's app)`` for every pyfly-ws endpoint ``app`` serves.

    Routes are read the way Starlette and FastAPI keep them, so endpoints
    mounted under a prefix show it; other applications give their registry's.
    """
    inner = _unwrapped(app)
    rows = list(_mounted(getattr(inner, "routes", None)))
    seen = {id(endpoint) for _, endpoint, _ in rows}
    rows += [(e.path, e, None) for e in _endpoints_of(app) or _endpoints_of(inner) if id(e) not in seen]
    return rows


def _mounted(routes: object, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Endpoint, type | None]]:
    if depth > 16 or not isinstance(routes, list | tuple):
        return
    for route in routes:
        path = getattr(route, "path", "")
        path = path if isinstance(path, str) else ""
        served = getattr(route, "endpoint", None)
        endpoint = getattr(served, "endpoint", None)
        if isinstance(endpoint, Endpoint):
            yield _under(prefix + path, endpoint), endpoint, type(served)
        elif isinstance(getattr(route, "routes", None), list | tuple):  # a Mount, or a router
            yield from _mounted(route.routes, prefix + path, depth + 1)
        elif callable(getattr(route, "effective_route_contexts", None)):  # a router included by recent FastAPI
            included = [getattr(context, "starlette_route", None) for context in route.effective_route_contexts()]
            yield from _mounted([r for r in included if r is not None], prefix, depth + 1)


def _under(route_path: str, endpoint: Endpoint) -> str:
    """The endpoint's own path behind the prefix its route adds (a route has one segment per endpoint segment)."""
    own = [segment for segment in endpoint.path.split("/") if segment]
    parts = [segment for segment in route_path.split("/") if segment]
    prefix = parts[: max(len(parts) - len(own), 0)]
    return ("/" + "/".join(prefix) if prefix else "") + endpoint.path


def _adapter_serving(app: object, route_apps: Sequence[type | None]) -> str | None:
    """The installed adapter that serves ``app``: the package of its routes' apps, else its framework's."""
    installed = set(available_adapters())
    for module in [cls.__module__ for cls in route_apps if cls is not None] + [type(_unwrapped(app)).__module__]:
        root = module.partition(".")[0]
        if root.startswith("pyfly_ws_") and root.removeprefix("pyfly_ws_") in installed:
            return root.removeprefix("pyfly_ws_")  # a route of pyfly_ws_starlette, say
        if module.startswith("pyfly_ws.asgi"):
            return "asgi"
        if root in _FRAMEWORK_ADAPTERS:
            return _FRAMEWORK_ADAPTERS[root]
        if root in installed:
            return root  # a third-party adapter named after its framework
    return None


def _conformance(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("pytest") is None or importlib.util.find_spec("pyfly_ws_conformance") is None:
        raise CommandError('the conformance suite needs pytest: pip install "pyfly-ws[conformance]"')
    argv = [sys.executable, "-m", "pytest", "--pyargs", "pyfly_ws_conformance", f"--pyfly-ws-adapter={args.adapter}"]
    argv += ["-p", "no:cacheprovider", "-q", *(f"--pyfly-ws-server={name}" for name in args.server or ())]
    if args.report:
        argv.append(f"--pyfly-ws-report={args.report}")
    # A fresh interpreter: pytest must import the suite (and anyio's plugin) itself to rewrite its asserts.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(argv, env=env, check=False).returncode


def load_target(spec: str) -> tuple[Any, str]:
    """Import ``module`` or ``module:attr``; the working directory is importable, as with uvicorn."""
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise CommandError(f"{spec!r} is not a module name")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module: ModuleType = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
            raise CommandError(f"no module named {module_name!r} (is the working directory right?)") from None
        raise CommandError(f"importing {module_name!r} failed: {describe_import_error(exc)}") from None
    except Exception as exc:
        raise CommandError(f"importing {module_name!r} failed: {describe_import_error(exc)}") from None
    if not attr:
        return module, module_name
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CommandError(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    return target, spec


def _adapter(name: str | None) -> Adapter:
    return load_adapter(choose_adapter(name)[0])


def _is_app(target: object) -> bool:
    """An ASGI application: an instance whose call takes (scope, receive, send), not a class or module."""
    return callable(target) and not isinstance(target, type | ModuleType)


def _endpoints_of(app: object) -> list[Endpoint]:
    endpoints = getattr(app, "endpoints", None)
    if isinstance(endpoints, list | tuple):
        return list(endpoints)
    registry = registry_of(app)
    return list(registry.endpoints) if registry is not None else []


def _version() -> str:
    """The installed distribution's version (the package's own when run from a source tree)."""
    try:
        return importlib.metadata.version("pyfly-ws")
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _count(items: object, noun: str) -> str:
    number = len(items) if isinstance(items, dict) else 0
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
