"""The conformance cases, one module per area; importing this package registers them all."""

from . import closing, concurrency, handshake, iteration, lifecycle, messages, properties, routing, stateful  # noqa: F401
