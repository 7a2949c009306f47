"""Importing an adapter in a fresh interpreter where its framework cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == {framework!r} or name.startswith({framework!r} + "."):
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    import pyfly_ws
    for attempt in (lambda: __import__({module!r}), lambda: pyfly_ws.create_app([], adapter={adapter!r})):
        try:
            attempt()
        except pyfly_ws.AdapterUnavailableError as exc:
            print("unavailable:", exc)
        else:
            print("no error")
    """
)


def messages_without(framework: str, module: str, adapter: str) -> list[str]:
    """What importing ``module`` and ``create_app(adapter=...)`` say when ``framework`` is missing."""
    script = _SCRIPT.format(framework=framework, module=module, adapter=adapter)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()
