"""The conformance cases, one module per area; importing this package registers them all."""

from . import (  # noqa: F401
    closing,
    concurrency,
    guards,
    handshake,
    iteration,
    lifecycle,
    messages,
    properties,
    routing,
    stateful,
)
