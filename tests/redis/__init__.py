"""The Redis hub against a real Redis server, with several server processes."""
