"""The ``pyfly-ws`` command: serve a module's controllers, or list their routes."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .adapter import Adapter
from .app import create_app
from .config import ENV_VAR, choose_adapter, describe_import_error, load_adapter
from .discovery import discover
from .endpoint import Endpoint
from .exceptions import ConfigurationError
from .logs import LOG_LEVELS
from .registry import registry_of
from .servers import SERVERS, check_server, listen, run_server

__all__ = ["CommandError", "main"]


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyfly-ws", description="Serve controller-based WebSocket endpoints.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve the controllers of a module (or the app it names)")
    run.add_argument("target", metavar="MODULE[:ATTR]", help="e.g. examples.chat, or myapp.main:app")
    run.add_argument("--adapter", help="asgi, starlette, litestar, quart, or an installed third-party name")
    run.add_argument("--server", choices=sorted(SERVERS), default="uvicorn", help="ASGI server (default: uvicorn)")
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


def _run(args: argparse.Namespace) -> int:
    check_server(args.server)  # before anything is imported, started or announced
    if args.adapter:  # also for a module that builds its own application with create_app()
        os.environ[ENV_VAR] = args.adapter
    target, name = load_target(args.target)
    if not _is_app(target) and _is_app(getattr(target, "app", None)):
        target, name = target.app, f"{name}:app"  # a module that defines its application: serve that
    if _is_app(target):
        app, endpoints, adapter_text = target, _endpoints_of(target), "its own"
    else:
        endpoints = discover(target)
        adapter = _adapter(args.adapter)
        app = create_app(target, adapter)
        adapter_text = adapter.name
    if not endpoints and not _is_app(target):
        raise CommandError(f"{name} has no WebSocket endpoints (no @websocket_mapping on a controller class)")
    sock = listen(args.host, args.port)  # a taken port fails here, before the application's startup
    base = f"{args.host}:{sock.getsockname()[1]}"
    print(f"pyfly-ws: serving {name} ({adapter_text} adapter) on {args.server} at http://{base}", flush=True)
    for page in getattr(app, "pyfly_ws_pages", ()):
        print(f"  http://{base}{page}    (open in a browser)", flush=True)
    for endpoint in endpoints:
        print(f"  ws://{base}{endpoint.path}    {endpoint.qualname}", flush=True)
    print("  (press Ctrl+C to stop)", flush=True)
    run_server(args.server, app, args.host, args.port, endpoints=endpoints, sock=sock, log_level=args.log_level)
    return 0


def _routes(args: argparse.Namespace) -> int:
    target, name = load_target(args.target)
    if _is_app(target):
        raise CommandError(f"{name} is an application; name the module (or source) that holds the controllers")
    endpoints = discover(target)
    adapter_name, origin = choose_adapter(args.adapter)
    load_adapter(adapter_name)
    rows = [(e.path, e.qualname) for e in endpoints]
    width = max([len("PATH"), *(len(path) for path, _ in rows)])
    method_width = max([len("CONTROLLER.METHOD"), *(len(q) for _, q in rows)])
    print(f"{'PATH':<{width}}  {'CONTROLLER.METHOD':<{method_width}}  ADAPTER")
    for path, qualname in rows:
        print(f"{path:<{width}}  {qualname:<{method_width}}  {adapter_name} ({origin})")
    if not rows:
        print(f"(no WebSocket endpoints in {name})")
    return 0


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
