"""``pyfly-ws asyncapi MODULE[:ATTR] [--format json|yaml] [--output FILE]``, run as a command; and the YAML text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyfly_ws import MissingDependencyError
from pyfly_ws.asyncapi import document_yaml
from tests.core.asyncapi import validate

ROOT = Path(__file__).resolve().parents[3]


def pyfly_ws(*args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m pyfly_ws ARGS`` in the repository's root (``path`` first on the import path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (path, ROOT) if p is not None)}
    return subprocess.run(
        [sys.executable, "-m", "pyfly_ws", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_document_of_a_module_as_json_and_yaml(tmp_path: Path) -> None:
    printed = pyfly_ws("asyncapi", "examples.chat")
    assert printed.returncode == 0, printed.stderr
    document: dict[str, Any] = json.loads(printed.stdout)
    validate.check(document)
    assert document["channels"]["ChatController"]["address"] == "/ws/chat/{room}"
    assert document["info"]["title"] == "pyfly-ws chat"  # the document create_app(..., asyncapi=...) built

    described = pyfly_ws("asyncapi", "examples.confirm")  # no asyncapi options: this repository's pyproject.toml
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["info"]["title"] == "pyfly-ws"

    written = pyfly_ws("asyncapi", "examples.chat", "--output", str(tmp_path / "chat.yaml"))  # YAML, by its suffix
    assert written.returncode == 0, written.stderr
    assert written.stdout == (
        f"pyfly-ws: wrote the AsyncAPI document of examples.chat:app to {tmp_path / 'chat.yaml'} "
        "(1 channel, 11 operations)\n"  # auth.refresh and auth.expiring among them: the chat signs in
    )
    text = (tmp_path / "chat.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == document and "&id" not in text  # the same document, no anchors
    assert text.startswith("asyncapi: 3.0.0\ninfo:\n")
    as_json = pyfly_ws("asyncapi", "examples.chat", "--format", "json", "--output", str(tmp_path / "chat.yaml"))
    assert as_json.returncode == 0 and json.loads((tmp_path / "chat.yaml").read_text()) == document


def test_an_application_gives_the_document_it_carries(tmp_path: Path) -> None:
    (tmp_path / "carrying.py").write_text(
        "from examples.chat import with_page\n"
        "from examples.echo import EchoController\n"
        "from pyfly_ws import create_app\n"
        "from pyfly_ws.asyncapi.attached import attach_document\n"
        "inner = create_app(EchoController)\n"
        "attach_document(inner, {'asyncapi': '3.0.0', 'info': {'title': 'attached', 'version': '7'}})\n"
        "app = with_page(inner)\n"
        "bare = create_app(EchoController)\n"
    )
    carried = pyfly_ws("asyncapi", "carrying", "--format", "yaml", path=tmp_path)  # through the wrapper's __wrapped__
    assert carried.returncode == 0, carried.stderr
    assert carried.stdout == "asyncapi: 3.0.0\ninfo:\n  title: attached\n  version: '7'\n"
    described = pyfly_ws("asyncapi", "carrying:bare", path=tmp_path)  # none carried: its endpoints described
    assert described.returncode == 0, described.stderr
    assert list(json.loads(described.stdout)["channels"]) == ["EchoController.echo"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_module"], "pyfly-ws: no module named 'no_such_module'"),
        (["tests.core.asyncapi.validate"], "pyfly-ws: tests.core.asyncapi.validate has no WebSocket endpoints"),
        (["examples.chat", "--format", "xml"], "pyfly-ws asyncapi: argument --format: invalid choice: 'xml'"),
        (["examples.echo", "--output", "/no/such/dir/x.json"], "pyfly-ws: cannot write /no/such/dir/x.json:"),
        (["examples.echo", "--format", "yaml"], 'pip install "pyfly-ws[yaml]"'),
        (["misplaced"], "pyfly-ws: Misplaced: @emits declares messages of a message-level endpoint"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "yaml.py").write_text("raise ImportError('PyYAML is not installed here')\n")  # only without PyYAML
    (tmp_path / "misplaced.py").write_text(
        "from pyfly_ws import emits, rest_controller, websocket_mapping\n"
        "@rest_controller\n@emits('news')\nclass Misplaced:\n"
        "    @websocket_mapping('/m')\n    async def m(self, session) -> None: ...\n"
    )
    result = pyfly_ws("asyncapi", *args, path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_yaml_without_pyyaml_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "pyfly-ws\[yaml\]"'):
        document_yaml({"asyncapi": "3.0.0"})
