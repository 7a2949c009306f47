"""The conformance kit tested as its users run it: with pytester, in fresh pytest processes."""

from __future__ import annotations

import dataclasses
import logging
import textwrap

import pytest

from pyfly_ws_conformance import CASES
from pyfly_ws_conformance.recorder import RECORDER
from pyfly_ws_conformance.runner import Runner

ADAPTERS = textwrap.dedent(
    '''
    from pyfly_ws import Capabilities
    from pyfly_ws.asgi import ASGIAdapter, ASGIConnection, PyflyASGIApp
    from pyfly_ws_conformance import Harness


    class BytesAsText(ASGIConnection):
        """Deliberately broken: binary messages arrive as text."""

        async def receive(self):
            message = await super().receive()
            return message.decode("latin-1") if isinstance(message, bytes) else message


    class BrokenApp(PyflyASGIApp):
        connection_class = BytesAsText


    class BrokenAdapter(ASGIAdapter):
        name = "broken"

        def create_app(self, endpoints, **options):
            return BrokenApp(endpoints, **options)


    broken = BrokenAdapter()
    plain = Harness(ASGIAdapter())  # declares no capability at all
    full = ASGIAdapter()
    passing_known_failure = Harness(full, full.capabilities, {"messages.text": "pretends to fail"})
    unknown_known_failure = Harness(full, full.capabilities, {"no.such_case": "typo"})
    '''
)


@pytest.fixture
def kit(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(my_adapters=ADAPTERS)
    pytester.syspathinsert()
    return pytester


def run(kit: pytest.Pytester, *args: str) -> pytest.RunResult:
    return kit.runpytest_subprocess("-p", "no:cacheprovider", "-rA", "--pyfly-ws-server=inprocess", *args)


def test_a_broken_adapter_fails_exactly_the_cases_it_breaks(kit: pytest.Pytester) -> None:
    result = run(kit, "--pyfly-ws-adapter=my_adapters:broken")
    failed = {line.split("[")[1].split("@")[0] for line in result.outlines if line.startswith("FAILED")}
    assert {"messages.bytes", "messages.large_bytes", "messages.receive_either", "properties.bytes_roundtrip"} <= failed
    assert not any(case.startswith(("routing.", "handshake.", "lifecycle.")) for case in failed), failed
    assert any(line.startswith("PASSED") and "[messages.text@inprocess]" in line for line in result.outlines)
    [row] = [line.split() for line in result.outlines if line.startswith("broken ")]
    assert row[:3] == ["broken", "inprocess", str(len(CASES) - len(failed))]
    assert row[3] == str(len(failed))
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_missing_capabilities_skip_naming_adapter_and_flag(kit: pytest.Pytester) -> None:
    result = run(kit, "--pyfly-ws-adapter=my_adapters:plain")
    result.stdout.fnmatch_lines(["SKIPPED*adapter 'asgi' does not declare capability subprotocols*"])
    outcomes = result.parseoutcomes()
    assert outcomes["skipped"] == sum(bool(case.requires) for case in CASES.values()) == 15
    assert "failed" not in outcomes


def test_a_known_failure_that_passes_fails_the_run(kit: pytest.Pytester) -> None:
    result = run(kit, "--pyfly-ws-adapter=my_adapters:passing_known_failure", "-k", "messages.text")
    result.stdout.fnmatch_lines(["*XPASS(strict)*pretends to fail*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_an_unknown_known_failure_warns(kit: pytest.Pytester) -> None:
    result = run(kit, "--pyfly-ws-adapter=my_adapters:unknown_known_failure", "-k", "routing.base_path")
    result.stdout.fnmatch_lines(["*ConformanceWarning: known_failures names 'no.such_case'*"])
    assert result.ret == pytest.ExitCode.OK


def test_inert_unless_asked(kit: pytest.Pytester) -> None:
    kit.makepyfile(test_own="def test_own():\n    assert True\n")
    result = run(kit)
    result.assert_outcomes(passed=1)


def test_ini_key_and_pyargs_run_the_suite(kit: pytest.Pytester) -> None:
    kit.makeini("[pytest]\npyfly_ws_adapter = asgi\npyfly_ws_servers = inprocess\n")
    kit.makepyfile(test_own="def test_own():\n    assert True\n")
    result = kit.runpytest_subprocess("-p", "no:cacheprovider", "-k", "routing or own")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] > 10  # the project's own test and the suite's routing cases
    result.stdout.fnmatch_lines(["*pyfly-ws conformance: adapter 'asgi'*"])
    pyargs = kit.runpytest_subprocess(
        "-p", "no:cacheprovider", "--pyargs", "pyfly_ws_conformance", "-k", "handshake.accept"
    )
    pyargs.assert_outcomes(passed=2)  # handshake.accept and handshake.accept_headers


def test_report_file_and_unknown_server(kit: pytest.Pytester) -> None:
    report = kit.path / "report.json"
    result = run(kit, "--pyfly-ws-adapter=asgi", f"--pyfly-ws-report={report}", "-k", "closing")
    assert result.ret == pytest.ExitCode.OK
    assert '"adapter": "asgi"' in report.read_text()
    bad = kit.runpytest_subprocess("--pyfly-ws-adapter=asgi", "--pyfly-ws-server=tomcat")
    bad.stderr.fnmatch_lines(["*unknown --pyfly-ws-server 'tomcat'*"])


def test_a_case_needing_an_absent_library_is_skipped_naming_it() -> None:
    needs = CASES["payloads.pydantic"]
    assert needs.libraries == ("pydantic",)
    logger = logging.getLogger("pyfly_ws")
    level = logger.level
    runner = Runner("asgi", [])
    try:
        assert runner.skip_reason(needs, "inprocess") is None  # installed with [conformance]
        absent = dataclasses.replace(needs, libraries=("pydantic", "no_such_library_here"))
        assert runner.skip_reason(absent, "inprocess") == (
            "needs no_such_library_here, not installed here: pip install no_such_library_here"
        )
    finally:
        runner.close()
        logger.removeHandler(RECORDER)  # the runner records the core's logs for the cases; none run here
        logger.setLevel(level)
