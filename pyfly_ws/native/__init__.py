"""The native transport: pyfly-ws endpoints served straight on picows, with no ASGI server between.

Every session API, guard, limit and message-level controller works as on the
ASGI adapters; the same conformance suite runs on it
(``--pyfly-ws-server picows``). It serves an application built by
:func:`~pyfly_ws.create_app` with the ``asgi`` adapter (the default): its
endpoints and its pages, nothing else (see :mod:`pyfly_ws.native.server`)::

    from pyfly_ws import create_app
    from pyfly_ws.native import serve

    serve(create_app("myapp.controllers"), "127.0.0.1", 8000, workers=2)

or, from the command line, ``pyfly-ws run myapp.controllers --server picows
--workers 2``. It needs the ``picows`` extra: ``pip install "pyfly-ws[picows]"``.
"""

from __future__ import annotations

from ..exceptions import ConfigurationError

try:
    import picows  # noqa: F401
except ImportError:
    raise ConfigurationError('the native transport needs picows: pip install "pyfly-ws[picows]"') from None

from .connection import NativeConnection
from .server import NativeServer, native_app
from .workers import serve

__all__ = ["NativeConnection", "NativeServer", "native_app", "serve"]
