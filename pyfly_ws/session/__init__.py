"""Layer 5, the session API over one connection: the session, its outgoing queue, the connection contract it needs."""
