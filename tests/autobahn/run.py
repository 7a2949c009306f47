"""Autobahn|Testsuite's fuzzing client against the native transport's echo endpoint: ``python -m tests.autobahn.run``.

Autobahn|Testsuite runs on Python 2.7 only. This finds one (``PYFLY_WS_PYTHON27``,
``python2.7`` on ``PATH``, or pyenv's), installs the pinned suite into
``.autobahn/lib`` (``tests/autobahn/requirements-py27.txt``), serves
``tests.native.apps:autobahn_app`` with ``pyfly-ws run --server picows``, runs
every case but the compression ones (12.* and 13.*: the native transport
offers no per-message deflate, so they would only report it unimplemented),
and prints one line per outcome. It fails if any case fails, closes
uncleanly or with a wrong code, or if no case ran; the full HTML report is in
``.autobahn/reports``.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pyfly_ws_conformance.servers import running

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".autobahn"
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}
CLOSE_PASSING = {"OK", "INFORMATIONAL"}
EXCLUDED = ["12.*", "13.*"]
LAUNCH = "import site, sys; site.addsitedir(sys.argv.pop(1)); from autobahntestsuite.wstest import run; sys.exit(run())"


def _is_27(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "(2, 7)"


def python27() -> str:
    """A Python 2.7 interpreter that runs, or an error saying where one was looked for."""
    candidates = [os.environ.get("PYFLY_WS_PYTHON27", "")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")), reverse=True)
    candidates.append(shutil.which("python2.7") or "")
    for candidate in filter(None, candidates):
        if _is_27(candidate):
            return candidate
    raise SystemExit(
        "Autobahn|Testsuite needs Python 2.7: none runs from PYFLY_WS_PYTHON27, ~/.pyenv/versions or PATH "
        "(pyenv install 2.7.18)"
    )


def install(python: str) -> Path:
    """The pinned suite in ``.autobahn/lib`` (installed once)."""
    lib = WORK / "lib"
    marker = lib / ".installed"
    if not marker.exists():
        shutil.rmtree(lib, ignore_errors=True)
        requirements = ROOT / "tests" / "autobahn" / "requirements-py27.txt"
        command = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-warn-script-location"]
        subprocess.run([*command, "--target", str(lib), "-r", str(requirements)], check=True)
        marker.write_text("ok\n")
    return lib


def main() -> int:
    python = python27()
    lib = install(python)
    reports = WORK / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    env = {"PYTHONPATH": str(ROOT)}
    with running("picows", "tests.native.apps:autobahn_app", env=env) as url:
        spec = {
            "outdir": str(reports),
            "servers": [{"agent": "pyfly-ws-native", "url": f"{url}/ws/echo"}],
            "cases": ["*"],
            "exclude-cases": EXCLUDED,
            "exclude-agent-cases": {},
        }
        spec_file = WORK / "fuzzingclient.json"
        spec_file.write_text(json.dumps(spec))
        subprocess.run(
            [python, "-c", LAUNCH, str(lib), "-m", "fuzzingclient", "-s", str(spec_file)],
            check=True,
            timeout=1200,
            stdout=subprocess.DEVNULL,
        )
    results = json.loads((reports / "index.json").read_text())["pyfly-ws-native"]
    outcomes = Counter(f"{case['behavior']}/{case['behaviorClose']}" for case in results.values())
    bad = sorted(
        (name, case["behavior"], case["behaviorClose"])
        for name, case in results.items()
        if case["behavior"] not in PASSING or case["behaviorClose"] not in CLOSE_PASSING
    )
    print(f"autobahn: {len(results)} cases run (all but {', '.join(EXCLUDED)}) against {url}/ws/echo")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    for name, behavior, close in bad:
        print(f"  failed: {name} {behavior} (close: {close})")
    return 1 if bad or not results else 0


if __name__ == "__main__":
    sys.exit(main())
