"""Layer 4, one connection's life: the endpoint it serves, admission, the handler under its supervisor, the registry.

The registry holds the live sessions; it drains them, and its timekeeper enforces their time limits.
"""
