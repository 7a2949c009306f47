"""An application object for ``pyfly-ws run tests.core.cli_app:app`` (the CLI serves it as it is)."""

from __future__ import annotations

from examples.echo import EchoController
from pyfly_ws import create_app

app = create_app(EchoController)
