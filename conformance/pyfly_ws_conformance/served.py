"""The application a server subprocess serves: ``pyfly_ws_conformance.served:app``.

The adapter under test is named by the environment variable
``PYFLY_WS_CONFORMANCE_ADAPTER`` (an adapter name or ``pkg.mod:attr``).
"""

from __future__ import annotations

import os

from .harness import load_harness
from .recorder import RECORDER

ENV_VAR = "PYFLY_WS_CONFORMANCE_ADAPTER"

RECORDER.install()
app = load_harness(os.environ.get(ENV_VAR, "asgi")).build_app()
