"""Layer 5, the session API over one connection, top to bottom.

``handler`` (the optional lifecycle hooks) > ``session`` (``WebSocketSession``, the public
API) > ``wire`` (what runs for every message, direct and plain side by side, and the seam
the lifecycle and the hub use) > ``outbox`` (the bounded outgoing queue),
``connection`` (the contract an adapter implements) and ``supervision`` (what the
session needs of the lifecycle's supervisor).
"""
