"""Layer 1, what the user writes: mapping decorators, policy (guards, origins, limits), path templates.

Metadata only: nothing here runs a socket.
"""
