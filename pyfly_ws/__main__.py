"""``python -m pyfly_ws`` is the ``pyfly-ws`` command."""

from .cli import main

raise SystemExit(main())
