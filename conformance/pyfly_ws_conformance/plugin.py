"""The pytest plugin: inert unless an adapter is named, then it runs the suite against it.

    pytest --pyfly-ws-adapter=pkg.mod:adapter [--pyfly-ws-server=NAME ...]
    pytest --pyargs pyfly_ws_conformance --pyfly-ws-adapter=starlette

or the ini keys ``pyfly_ws_adapter`` and ``pyfly_ws_servers``.

pytest loads this module in every run of every project where pyfly-ws is installed, so it
imports nothing but pytest and the standard library until an adapter is named. Then every
mistake (a kit dependency or a server not installed, an unknown adapter, a module that does
not import) stops the run at configuration time with one line naming the fix.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .harness import Harness
    from .runner import Runner
    from .servers import ServerConfig

__all__ = ["DEFAULT_TRANSPORTS", "ConformanceWarning", "check_installed"]

SUITE_FILE = Path(__file__).with_name("test_conformance.py")
DEFAULT_TRANSPORTS = ("inprocess", "uvicorn-sansio")
RUNNER_KEY = pytest.StashKey["Runner"]()
_results: dict[str, Counter[str]] = {}
"""Outcome counts per transport of the current run."""
_KIT_NEEDS = ("hypothesis", "websockets")
"""What the suite itself imports beyond pyfly-ws and pytest, whatever the transport."""
_KIT_EXTRA = frozenset({"pytest", "hypothesis", "websockets", "uvicorn", "pydantic", "msgspec"})
"""What ``pip install "pyfly-ws[conformance]"`` brings (uvicorn for the default server; pydantic and msgspec for
the payload and MessagePack cases, which are skipped, naming the library, where it is absent)."""


class ConformanceWarning(UserWarning):
    """A problem with how the conformance suite was configured, e.g. an unknown case in ``known_failures``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyfly-ws conformance")
    group.addoption("--pyfly-ws-adapter", metavar="SPEC", help="run the pyfly-ws conformance suite on this adapter")
    group.addoption(
        "--pyfly-ws-server",
        action="append",
        metavar="NAME",
        help="transport to run the suite on (repeatable): inprocess, inprocess-trio, a server configuration, or all",
    )
    group.addoption("--pyfly-ws-report", metavar="PATH", help="write the suite's results as JSON to PATH")
    parser.addini("pyfly_ws_adapter", "adapter to run the pyfly-ws conformance suite on", default=None)
    parser.addini("pyfly_ws_servers", "transports for the pyfly-ws conformance suite", type="args", default=[])


def _transports(config: pytest.Config) -> list[str]:
    from .runner import IN_PROCESS
    from .servers import SERVERS

    names = _requested(config)
    everything = [*IN_PROCESS, *SERVERS]
    chosen: list[str] = []
    for name in names:
        for one in everything if name == "all" else [name]:
            if one not in everything:
                raise pytest.UsageError(f"unknown --pyfly-ws-server {one!r}; choose from {', '.join(everything)}, all")
            if one not in chosen:
                chosen.append(one)
    return chosen


def _requested(config: pytest.Config) -> list[str]:
    return list(config.getoption("pyfly_ws_server") or config.getini("pyfly_ws_servers") or DEFAULT_TRANSPORTS)


def check_installed(transports: Sequence[str], servers: Mapping[str, ServerConfig] | None = None) -> str | None:
    """What the suite on ``transports`` lacks here, in one line naming the pip command; ``None`` if nothing.

    ``servers`` are the server configurations the names refer to (default: ``SERVERS``). Only
    looks (``importlib.util.find_spec``): nothing is imported.
    """
    if servers is None:
        from .servers import SERVERS

        servers = SERVERS
    extras = {module: "conformance" for module in _KIT_NEEDS if importlib.util.find_spec(module) is None}
    """Each module that is missing, and the extra of pyfly-ws that installs it."""
    kit_missing = bool(extras)
    users: dict[str, list[str]] = {}
    """The servers that need a missing module the suite itself does not."""
    for server in list(servers) if "all" in transports else [name for name in transports if name in servers]:
        config = servers[server]
        for module in [name for name in (config.module, *config.requires) if importlib.util.find_spec(name) is None]:
            extras.setdefault(module, "conformance" if kit_missing and module in _KIT_EXTRA else config.extra)
            if module not in _KIT_NEEDS:
                users.setdefault(module, []).append(server)
    if not extras:
        return None
    names = [f"{module} (for {', '.join(users[module])})" if module in users else module for module in extras]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    verb = "is" if len(names) == 1 else "are"
    command = f'pip install "pyfly-ws[{",".join(dict.fromkeys(extras.values()))}]"'
    return f"the pyfly-ws conformance suite needs {listed}, which {verb} not installed: {command}"


def _importable(config: pytest.Config) -> None:
    """Let ``pkg.mod:attr`` name a module of the project under test, with either ``pytest`` or ``python -m pytest``.

    ``python -m pytest`` puts the working directory first on ``sys.path``; the ``pytest`` script
    does not. With either, the module is looked for in the working directory, then on
    ``sys.path``, then in the rootdir.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    if str(config.rootpath) not in sys.path:
        sys.path.append(str(config.rootpath))


def _harness(spec: str) -> Harness:
    from pyfly_ws import ConfigurationError

    from .harness import load_harness

    try:
        return load_harness(spec)
    except (ConfigurationError, TypeError) as exc:
        raise pytest.UsageError(str(exc)) from None  # the message names the adapter


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("pyfly_ws_adapter") or config.getini("pyfly_ws_adapter")
    if not spec:
        return
    problem = check_installed(_requested(config))
    if problem:
        raise pytest.UsageError(problem)
    if ":" in str(spec):
        _importable(config)
    harness = _harness(str(spec))  # before the cases: a mistake in the spec is reported at once
    from . import CASES
    from .runner import Runner

    runner = Runner(str(spec), _transports(config), harness)
    config.stash[RUNNER_KEY] = runner
    _results.clear()
    config.add_cleanup(runner.close)
    for key in runner.harness.known_failures:
        case_id, _, transport = key.partition("@")
        if case_id not in CASES or (transport and transport not in runner.transports):
            config.issue_config_time_warning(
                ConformanceWarning(f"known_failures names {key!r}, which is not a case (or transport) of this run"),
                stacklevel=2,
            )
    if not any("pyfly_ws_conformance" in str(arg) for arg in config.args):
        config.args.append(str(SUITE_FILE))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path == SUITE_FILE and RUNNER_KEY not in config.stash:
        return True  # inert: nobody asked for the suite
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.path != SUITE_FILE or "conformance_case" not in metafunc.fixturenames:
        return
    from . import CASES

    runner = metafunc.config.stash[RUNNER_KEY]
    known = runner.harness.known_failures
    params = []
    for transport in runner.transports:
        for case in CASES.values():
            reason = known.get(f"{case.id}@{transport}") or known.get(case.id)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, transport, id=f"{case.id}@{transport}", marks=marks))
    metafunc.parametrize(("conformance_case", "conformance_transport"), params)


@pytest.fixture(scope="session")
def pyfly_ws_runner(request: pytest.FixtureRequest) -> Runner:
    """The session's conformance runner (adapter, transports, servers)."""
    return request.config.stash[RUNNER_KEY]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "::test_conformance[" not in report.nodeid or "@" not in report.nodeid:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    transport = report.nodeid.rpartition("@")[2].rstrip("]")
    outcome = ("xfailed" if report.skipped else "failed") if hasattr(report, "wasxfail") else report.outcome
    _results.setdefault(transport, Counter())[outcome] += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if RUNNER_KEY not in config.stash:
        return
    from .matrix import format_matrix, report

    runner = config.stash[RUNNER_KEY]
    rows = {transport: dict(_results.get(transport, Counter())) for transport in runner.transports}
    terminalreporter.write_sep("=", f"pyfly-ws conformance: adapter {runner.harness.name!r}")
    terminalreporter.write_line(format_matrix({runner.harness.name: rows}))
    path = config.getoption("pyfly_ws_report")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report(runner.harness.name, rows), indent=2) + "\n", encoding="utf-8")
