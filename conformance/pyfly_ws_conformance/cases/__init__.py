"""The conformance cases, one module per area; importing this package registers them all."""

from . import (  # noqa: F401
    broadcast,
    closing,
    concurrency,
    drain,
    guards,
    handshake,
    iteration,
    lifecycle,
    limits,
    messages,
    outgoing,
    properties,
    routing,
    stateful,
)
